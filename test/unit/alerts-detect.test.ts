import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { detect, podHealthy, slimPod, workloadOf } from '../../src/alerts/detect.js';
import { watchTargets } from '../../src/alerts/routes.js';
import { defaultBackoff } from '../../src/alerts/watch.js';
import { parseConfig } from '../../src/config/load.js';
import { diagnosePod } from '../../src/kube/diagnose.js';

const T = '2024-05-01T10:00:00Z';

function pod(
  status: Partial<NonNullable<V1Pod['status']>> = {},
  meta: Partial<NonNullable<V1Pod['metadata']>> = {},
  spec: Partial<NonNullable<V1Pod['spec']>> = {},
): V1Pod {
  return {
    metadata: {
      name: 'myapp-7d9f8c6b5d-x2k4p',
      namespace: 'beta',
      uid: 'u1',
      labels: { 'pod-template-hash': '7d9f8c6b5d' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'myapp-7d9f8c6b5d', uid: 'rs1', controller: true }],
      ...meta,
    },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: 'myapp:1', resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } } }],
      ...spec,
    },
    status: { phase: 'Running', ...status },
  };
}
const container = (s: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name: 'app',
  image: 'myapp:1',
  imageID: '',
  ready: false,
  restartCount: 0,
  ...s,
});

describe('workloadOf', () => {
  it("groups a Deployment's pods under the Deployment (ReplicaSet named <deployment>-<pod-template-hash>)", () => {
    expect(workloadOf(pod())).toEqual({ kind: 'Deployment', name: 'myapp' });
  });
  it('names StatefulSets, DaemonSets and Jobs by their controller, a ReplicaSet without that hash by itself, a bare pod by itself', () => {
    const owned = (kind: string, name: string) =>
      pod({}, { labels: {}, ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: 'o', controller: true }] });
    expect(workloadOf(owned('StatefulSet', 'db'))).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(workloadOf(owned('DaemonSet', 'agent'))).toEqual({ kind: 'DaemonSet', name: 'agent' });
    expect(workloadOf(owned('Job', 'migrate-42'))).toEqual({ kind: 'Job', name: 'migrate-42' });
    expect(workloadOf(owned('ReplicaSet', 'hand-made'))).toEqual({ kind: 'ReplicaSet', name: 'hand-made' });
    expect(workloadOf(pod({}, { name: 'debug', labels: {}, ownerReferences: [] }))).toEqual({ kind: 'Pod', name: 'debug' });
  });
});

describe('detect', () => {
  it('counts one OOM kill once, whether seen as the current state (restart N) or as lastState after the restart (N+1)', () => {
    const killed = { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date(T), startedAt: new Date(T), containerID: 'c1' };
    const now = detect(pod({ containerStatuses: [container({ restartCount: 2, state: { terminated: killed } })] }));
    const after = detect(
      pod({
        containerStatuses: [
          container({ restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: killed } }),
        ],
      }),
    );
    expect(now).toEqual([
      expect.objectContaining({ kind: 'OOMKilled', container: 'app', occurrence: 3, exitCode: 137, at: Date.parse(T) }),
    ]);
    expect(after).toHaveLength(1);
    expect(after[0]!.occurrence).toBe(3);
    // An OOM-caused crash loop is the OOM alert only.
    expect(after[0]!.kind).toBe('OOMKilled');
  });

  it('reports a crash loop with its last exit, one occurrence per restart', () => {
    const [f] = detect(
      pod({
        containerStatuses: [
          container({
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
            lastState: { terminated: { exitCode: 3, reason: 'Error', finishedAt: new Date(T) } },
          }),
        ],
      }),
    );
    expect(f).toEqual(
      expect.objectContaining({ kind: 'CrashLoopBackOff', occurrence: 4, exitCode: 3, reason: 'Error', message: 'back-off 40s' }),
    );
  });

  it('reports ErrImagePull and ImagePullBackOff as one image-pull finding per container', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff']) {
      const [f] = detect(
        pod({
          phase: 'Pending',
          containerStatuses: [container({ state: { waiting: { reason, message: 'Failed to pull image "x": not found' } } })],
        }),
      );
      expect(f).toEqual(expect.objectContaining({ kind: 'ImagePullBackOff', reason, occurrence: 1, image: 'myapp:1' }));
    }
  });

  it('reports an unschedulable pod with the time it became so, and nothing for a pod going away', () => {
    const pending = pod(
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
            lastTransitionTime: new Date(T),
          },
        ],
      },
      {},
      { nodeName: undefined },
    );
    expect(detect(pending)).toEqual([
      expect.objectContaining({
        kind: 'Unschedulable',
        occurrence: 1,
        at: Date.parse(T),
        message: '0/3 nodes are available: 3 Insufficient memory.',
      }),
    ]);
    expect(detect({ ...pending, metadata: { ...pending.metadata, deletionTimestamp: new Date(T) } })).toEqual([]);
  });

  it('finds nothing wrong with a running pod, which is healthy once ready', () => {
    const running = pod({
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [container({ ready: true, state: { running: { startedAt: new Date(T) } } })],
    });
    expect(detect(running)).toEqual([]);
    expect(podHealthy(running)).toBe(true);
    expect(podHealthy(pod({ conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
    expect(podHealthy(pod({ phase: 'Succeeded' }))).toBe(true);
  });
});

describe('slimPod', () => {
  it('keeps what alerts read and drops the rest', () => {
    const full = pod(
      {
        podIP: '10.0.0.1',
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'Initialized', status: 'True' },
        ],
        containerStatuses: [
          container({
            restartCount: 1,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
            lastState: {
              terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date(T), startedAt: new Date(T), containerID: 'c1' },
            },
          }),
        ],
      },
      {
        annotations: { big: 'x'.repeat(10_000) },
        managedFields: [{ manager: 'kubectl' }],
        labels: { app: 'myapp', 'pod-template-hash': '7d9f8c6b5d' },
      },
      { volumes: [{ name: 'v' }], nodeSelector: { disk: 'ssd' } },
    );
    const slim = slimPod(full);
    expect(JSON.stringify(slim).length).toBeLessThan(1_000);
    expect(slim.metadata?.annotations).toBeUndefined();
    // Scheduling constraints matter only until the pod is placed.
    expect(slim.spec?.nodeSelector).toBeUndefined();
    expect(slimPod({ ...full, spec: { ...full.spec!, nodeName: undefined } }).spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(slim.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
    expect(workloadOf(slim)).toEqual(workloadOf(full));
    expect(detect(slim)).toEqual(detect(full));
    expect(detect(slim)).toHaveLength(1);
    expect(podHealthy(slim)).toBe(podHealthy(full));
  });
});

describe('watching', () => {
  it('restarts a failed watch after 250 ms, doubling up to 30 s', () => {
    const waits = [0, 1, 2, 3, 10, 20].map((a) => defaultBackoff(a));
    expect(waits[0]).toBeGreaterThanOrEqual(200);
    expect(waits[0]).toBeLessThanOrEqual(300);
    expect(waits[3]).toBeGreaterThanOrEqual(1_600);
    expect(waits[4]).toBeLessThanOrEqual(36_000);
    expect(waits[5]).toBeLessThanOrEqual(36_000);
    expect(waits[5]).toBeGreaterThanOrEqual(24_000);
  });

  it("watches every namespace of the environments rules name, routing each kind to each rule's channel once", () => {
    const config = parseConfig(
      `
environments:
  beta: { namespace: beta }
  prod: { namespace: prod }
  dev: { namespace: dev }
alerts:
  - { environments: [beta, prod], channel: C0ONCALL, on: [OOMKilled, Unschedulable], pendingFor: 2m }
  - { environments: [prod], channel: C0PRODOPS, on: [OOMKilled] }
  - { environments: [prod], channel: C0PRODOPS, on: [OOMKilled, CrashLoopBackOff] }
`,
      'test.yaml',
    );
    const targets = watchTargets(config, () => 'default').get('default')!;
    expect(targets.map((t) => t.namespace)).toEqual(['beta', 'prod']);
    const prod = targets.find((t) => t.namespace === 'prod')!;
    expect(prod.routes.get('OOMKilled')).toEqual([
      { channel: 'C0ONCALL', env: 'prod', pendingForMs: 120_000, recoverAfterMs: 300_000, reopenWithinMs: 1_800_000 },
      { channel: 'C0PRODOPS', env: 'prod', pendingForMs: 120_000, recoverAfterMs: 300_000, reopenWithinMs: 1_800_000 },
    ]);
    expect(prod.routes.get('CrashLoopBackOff')).toEqual([
      { channel: 'C0PRODOPS', env: 'prod', pendingForMs: 120_000, recoverAfterMs: 300_000, reopenWithinMs: 1_800_000 },
    ]);
    expect(targets.find((t) => t.namespace === 'beta')!.routes.has('CrashLoopBackOff')).toBe(false);
  });
});

describe('one pod-problem classifier for alerts and the rollout thread', () => {
  const cases: Array<[string, V1Pod]> = [
    [
      'an image that cannot be named',
      pod({ containerStatuses: [container({ state: { waiting: { reason: 'InvalidImageName', message: 'bad ref' } } })] }),
    ],
    [
      'an image pull back-off after an OOM kill',
      pod({
        containerStatuses: [
          container({
            restartCount: 2,
            state: { waiting: { reason: 'ErrImagePull' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: new Date(T) } },
          }),
        ],
      }),
    ],
    [
      'a crash loop after an OOM kill',
      pod({
        containerStatuses: [
          container({
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: new Date(T) } },
          }),
        ],
      }),
    ],
    [
      'a pod nobody can place',
      pod(
        { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' }] },
        {},
        { nodeName: undefined },
      ),
    ],
  ];
  it.each(cases)('%s: the alert and the rollout diagnosis name the same problem', (_, p) => {
    const first = diagnosePod(p);
    expect(first).toBeDefined();
    expect(detect(p)[0]).toMatchObject({ kind: first!.kind, occurrence: first!.occurrence });
  });
  it('a container-creation error is shown by the rollout thread but is not an alert kind', () => {
    const p = pod({
      containerStatuses: [container({ state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } } })],
    });
    expect(diagnosePod(p)?.kind).toBe('ContainerError');
    expect(detect(p)).toEqual([]);
  });
});
