import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { canaryDeployment, canaryReplicas, canaryVerdict, shareText, trackStats } from '../../src/kube/canary.js';
import { parseArgs } from '../../src/command/parse.js';
import deploy from '../../commands/deploy.js';
import { colorDeployment, otherColor } from '../../src/kube/blue-green.js';

const pod = (name: string, opts: { ready?: boolean; restarts?: number; waiting?: string; last?: string; since?: string }): V1Pod => ({
  metadata: { name, labels: { track: 'canary' } },
  status: {
    conditions: [
      { type: 'Ready', status: opts.ready ? 'True' : 'False', lastTransitionTime: (opts.since ?? '2026-01-01T00:00:00Z') as never },
    ],
    containerStatuses: [
      {
        name: 'app',
        image: 'x',
        imageID: '',
        ready: Boolean(opts.ready),
        restartCount: opts.restarts ?? 0,
        state: opts.waiting ? { waiting: { reason: opts.waiting } } : { running: {} },
        ...(opts.last ? { lastState: { terminated: { reason: opts.last, exitCode: opts.last === 'OOMKilled' ? 137 : 1 } } } : {}),
      },
    ],
  },
});

describe('canary replicas', () => {
  it('picks the canary pod count whose share of all pods is closest to the step, at least one', () => {
    expect(canaryReplicas(2, 10)).toBe(1);
    expect(shareText(1, 2)).toBe('1 of 3 pods, 33 %');
    expect(canaryReplicas(2, 50)).toBe(2);
    expect(canaryReplicas(9, 10)).toBe(1);
    expect(canaryReplicas(8, 20)).toBe(2);
    expect(canaryReplicas(3, 25)).toBe(1);
    expect(canaryReplicas(1, 90)).toBe(9);
  });

  it('copies the stable pod template with the new image and track: canary, selector narrowed to the canary', () => {
    const canary = canaryDeployment(
      {
        metadata: { name: 'legacy-web', namespace: 'beta', labels: { app: 'legacy' } },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'legacy' } },
          template: {
            metadata: { labels: { app: 'legacy' }, annotations: { 'kubectl.kubernetes.io/restartedAt': 'x', keep: 'y' } },
            spec: {
              containers: [
                { name: 'web', image: 'old' },
                { name: 'sidecar', image: 'side' },
              ],
            },
          },
        },
      },
      { container: 'web', image: 'new', replicas: 1, annotations: {}, canaryId: 'r1' },
    );
    expect(canary.metadata?.name).toBe('legacy-web-canary');
    expect(canary.spec?.selector.matchLabels).toEqual({ app: 'legacy', track: 'canary' });
    expect(canary.spec?.template.metadata?.labels).toEqual({ app: 'legacy', track: 'canary' });
    expect(canary.spec?.template.metadata?.annotations).toEqual({ keep: 'y' });
    expect(canary.spec?.template.spec?.containers.map((c) => c.image)).toEqual(['new', 'side']);
  });
});

describe('canary health', () => {
  const t = { maxRestarts: 2, maxUnready: 60_000 };
  const now = Date.parse('2026-01-01T00:00:30Z');

  it('counts ready pods, restarts, OOMKills and crash loops with the pod classifier', () => {
    const stats = trackStats([
      pod('a', { ready: true }),
      pod('b', { restarts: 2, waiting: 'CrashLoopBackOff', last: 'Error' }),
      pod('c', { restarts: 1, last: 'OOMKilled' }),
    ]);
    expect(stats).toMatchObject({ pods: 3, ready: 1, restarts: 3, oomKills: 1, crashLoops: 1, unready: 2 });
    expect(canaryVerdict(stats, t, now)).toMatch(/crash-looping.*restarted 3 times, more than `canary.maxRestarts` \(2\)/);
  });

  it('aborts a pod unready beyond maxUnready, not before', () => {
    const stats = trackStats([pod('a', { since: '2026-01-01T00:00:00Z' })]);
    expect(canaryVerdict(stats, t, now)).toBeUndefined();
    expect(canaryVerdict(stats, t, now + 60_000)).toMatch(/pod a has not been ready for 90 s/);
  });
});

describe('--canary [percent]', () => {
  it('takes a number after the flag only, so the version stays a positional', () => {
    expect(parseArgs(deploy, ['myapp', 'beta', '2.0.0', '--canary']).args).toMatchObject({ version: '2.0.0', canary: true });
    expect(parseArgs(deploy, ['myapp', 'beta', '2.0.0', '--canary', '25']).args).toMatchObject({ canary: 25 });
    expect(parseArgs(deploy, ['myapp', 'beta', '--canary=10%', '2.0.0']).args).toMatchObject({ version: '2.0.0', canary: 10 });
    expect(() => parseArgs(deploy, ['myapp', 'beta', '2.0.0', '--canary', '100'])).toThrow(/1 to 99/);
    expect(() => parseArgs(deploy, ['myapp', 'beta', '2.0.0', '--canary', '--blue-green'])).toThrow(/not both/);
  });
});

describe('blue/green colour Deployment', () => {
  it('alternates colours and copies the serving template with the new image, without its revision hash', () => {
    expect(otherColor(undefined)).toBe('green');
    expect(otherColor('green')).toBe('blue');
    expect(otherColor('blue')).toBe('green');
    const d = colorDeployment(
      {
        metadata: { name: 'myapp', namespace: 'beta', labels: { 'app.kubernetes.io/name': 'myapp' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'myapp' } },
          template: {
            metadata: { labels: { 'app.kubernetes.io/name': 'myapp', 'pod-template-hash': 'abc' } },
            spec: { containers: [{ name: 'myapp', image: 'old' }] },
          },
        },
      },
      { name: 'myapp-green', color: 'green', container: 'myapp', image: 'new', replicas: 2, annotations: {} },
    );
    expect(d.spec?.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(d.spec?.template.metadata?.labels).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('new');
  });
});

describe('requests and limits set in chat on what serves', () => {
  it('come with their record onto a canary and a new colour, which run the same pod template; its other annotations do not', () => {
    const record = {
      'k8s-chatops.io/resources': '{"limits":{"memory":"512Mi"}}',
      'k8s-chatops.io/resources-set-by': 'U0ALICE',
      'k8s-chatops.io/resources-set-at': '2026-12-07T21:00:00Z',
    };
    const serving = {
      metadata: { name: 'myapp', namespace: 'beta', annotations: { ...record, 'k8s-chatops.io/deployed-by': 'bob' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'myapp' } },
        template: { spec: { containers: [{ name: 'myapp', image: 'old', resources: { limits: { memory: '512Mi' } } }] } },
      },
    };
    const ours = { 'k8s-chatops.io/deployed-by': 'carol' };
    const canary = canaryDeployment(serving, { container: 'myapp', image: 'new', replicas: 1, annotations: ours, canaryId: 'r1' });
    expect(canary.metadata?.annotations).toEqual({
      ...record,
      ...ours,
      'k8s-chatops.io/canary-of': 'myapp',
      'k8s-chatops.io/canary-id': 'r1',
    });
    expect(canary.spec?.template.spec?.containers[0]?.resources).toEqual({ limits: { memory: '512Mi' } });
    const green = colorDeployment(serving, {
      name: 'myapp-green',
      color: 'green',
      container: 'myapp',
      image: 'new',
      replicas: 2,
      annotations: ours,
    });
    expect(green.metadata?.annotations).toEqual({ ...record, ...ours });
    expect(green.spec?.template.spec?.containers[0]?.resources).toEqual({ limits: { memory: '512Mi' } });
  });
});
