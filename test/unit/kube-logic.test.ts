import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { rolloutState } from '../../src/kube/rollout.js';
import { renderApp, imageTag, checksum } from '../../src/kube/render.js';
import { diagnosePod } from '../../src/kube/diagnose.js';
import { diagnosisMessage } from '../../src/slack/views/job-thread.js';
import { config } from './fixtures.js';

const deployment = (over: {
  generation?: number;
  observed?: number;
  replicas?: number;
  updated?: number;
  total?: number;
  available?: number;
  progressing?: string;
}): V1Deployment => ({
  metadata: { name: 'myapp', generation: over.generation ?? 2 },
  spec: { replicas: over.replicas ?? 2, selector: {}, template: {} },
  status: {
    observedGeneration: over.observed ?? 2,
    updatedReplicas: over.updated ?? 2,
    replicas: over.total ?? 2,
    availableReplicas: over.available ?? 2,
    conditions: over.progressing ? [{ type: 'Progressing', status: 'False', reason: over.progressing }] : [],
  },
});

describe('rollout status, as kubectl decides it', () => {
  it('waits for the spec update to be observed', () => {
    expect(rolloutState(deployment({ generation: 3, observed: 2 })).phase).toBe('waiting');
  });
  it('fails on ProgressDeadlineExceeded', () => {
    expect(rolloutState(deployment({ progressing: 'ProgressDeadlineExceeded' }))).toMatchObject({ phase: 'failed' });
  });
  it('fails at once when the cluster refuses to create the pods (ReplicaFailure), in its words, before any deadline', () => {
    const message = 'pods "web-5d8f-" is forbidden: error looking up service account beta/foo: serviceaccount "foo" not found';
    const d = deployment({ updated: 0, available: 0 });
    d.status!.conditions = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
      { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message },
    ];
    expect(rolloutState(d)).toEqual({
      phase: 'failed',
      message: `the cluster refuses to create its pods: ${message}`,
      podsRefused: message,
    });
    d.status!.conditions = [{ type: 'ReplicaFailure', status: 'False', reason: 'FailedCreate', message }];
    expect(rolloutState(d).phase).toBe('progressing');
  });
  it('reports updated, old pending termination, then available', () => {
    expect(rolloutState(deployment({ updated: 1 })).message).toBe('1 of 2 new replicas updated');
    expect(rolloutState(deployment({ total: 3 })).message).toBe('1 old replica pending termination');
    expect(rolloutState(deployment({ available: 1 })).message).toBe('1 of 2 updated replicas available');
    expect(rolloutState(deployment({})).phase).toBe('done');
  });
});

describe('rendering an app', () => {
  const input = {
    appName: 'myapp',
    app: config.apps.myapp!,
    envName: 'prod',
    namespace: 'prod',
    version: '1.4.2',
    requestedBy: 'alice',
    channelId: 'C0OPS',
    requestId: 'r1',
    configData: { LOG_LEVEL: 'info' },
  };
  it('applies per-environment overrides and the image tag', () => {
    const { workload, service, configMap } = renderApp(input);
    const deployment = workload as V1Deployment;
    expect(deployment.spec?.replicas).toBe(4);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/team/myapp:1.4.2');
    expect(service?.spec?.ports?.[0]?.port).toBe(8080);
    expect(configMap.data).toEqual({ LOG_LEVEL: 'info' });
  });
  it('is pure, and a config change changes the pod template', () => {
    expect(renderApp(input)).toEqual(renderApp(input));
    const changed = renderApp({ ...input, configData: { LOG_LEVEL: 'debug' } });
    expect(changed.workload.spec?.template.metadata?.annotations).not.toEqual(
      renderApp(input).workload.spec?.template.metadata?.annotations,
    );
    expect(checksum({ a: '1', b: '2' })).toBe(checksum({ b: '2', a: '1' }));
  });
  it('reads tags from image references', () => {
    expect(imageTag('registry:5000/team/app:1.2')).toBe('1.2');
    expect(imageTag('registry:5000/team/app')).toBeUndefined();
    expect(imageTag('app@sha256:abc')).toBe('sha256:abc');
  });
});

describe('diagnosing a pod', () => {
  const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'myapp-abc' }, status });
  it('explains unschedulable pods with the scheduler message', () => {
    const problem = diagnosePod(
      pod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' },
        ],
      }),
    );
    expect(problem).toMatchObject({ kind: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' });
  });
  it('recognises OOMKilled before CrashLoopBackOff', () => {
    const problem = diagnosePod(
      pod({
        containerStatuses: [
          {
            name: 'app',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
          },
        ],
      }),
    );
    expect(problem).toMatchObject({ kind: 'OOMKilled', exitCode: 137, restarts: 3 });
  });
  it('names the image that cannot be pulled', () => {
    const problem = diagnosePod(
      pod({
        containerStatuses: [
          {
            name: 'app',
            image: 'repo/app:nope',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "repo/app:nope"' } },
          },
        ],
      }),
    );
    expect(problem).toMatchObject({ kind: 'ImagePullBackOff', image: 'repo/app:nope' });
    expect(diagnosisMessage({ problem: problem! }, 'deadline').text).toContain('`repo/app:nope`');
  });
  it('finds nothing wrong with a running pod', () => {
    expect(
      diagnosePod(
        pod({
          phase: 'Running',
          containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
        }),
      ),
    ).toBeUndefined();
  });
});

describe('rollout wording', () => {
  it('says replica for one and replicas for more', () => {
    const state = rolloutState;
    const d = (replicas: number, updated: number, available: number, desired: number): V1Deployment => ({
      metadata: { name: 'myapp', generation: 1 },
      spec: { replicas: desired, selector: {}, template: {} },
      status: { observedGeneration: 1, replicas, updatedReplicas: updated, availableReplicas: available },
    });
    expect(state(d(1, 0, 0, 1)).message).toBe('0 of 1 new replica updated');
    expect(state(d(3, 2, 2, 2)).message).toBe('1 old replica pending termination');
    expect(state(d(2, 2, 1, 2)).message).toBe('1 of 2 updated replicas available');
    expect(state(d(1, 1, 1, 1)).message).toBe('1 of 1 replica updated and available');
  });
});
