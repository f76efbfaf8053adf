import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/alerts/detect.js';
import {
  diagnoseCrash,
  diagnoseImagePull,
  diagnoseOom,
  diagnoseUnschedulable,
  oomSuggestion,
  registryError,
} from '../../src/alerts/diagnose.js';

const AT = Date.parse('2024-05-01T10:00:00Z');

function node(name: string, cpu: string, memory: string, extra: { labels?: Record<string, string>; taints?: any[] } = {}): V1Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
    spec: extra.taints ? { taints: extra.taints } : {},
    status: { allocatable: { cpu, memory, pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function running(name: string, nodeName: string, cpu: string, memory: string): V1Pod {
  return {
    metadata: { name, namespace: 'other' },
    spec: { nodeName, containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] },
    status: { phase: 'Running' },
  };
}

const pending = (spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
  metadata: { name: 'hungry-1', namespace: 'prod' },
  spec: { containers: [], ...spec },
  status: { phase: 'Pending' },
});
const unschedulable = (message: string): Finding => ({ kind: 'Unschedulable', pod: 'hungry-1', occurrence: 1, at: AT, message });

describe('OOMKilled diagnosis', () => {
  const pod: V1Pod = {
    metadata: { name: 'api-1', namespace: 'beta' },
    spec: { nodeName: 'node-2', containers: [{ name: 'api', resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } } }] },
  };
  const finding: Finding = { kind: 'OOMKilled', pod: 'api-1', container: 'api', occurrence: 3, at: AT, exitCode: 137 };

  it('gives pod, container, node, limit and request, restarts, time and log lines, and says to raise the limit or find the leak', () => {
    const d = diagnoseOom(pod, finding, ['allocated 200Mi', 'allocated 250Mi']);
    expect(d).toMatchObject({
      kind: 'OOMKilled',
      pod: 'api-1',
      namespace: 'beta',
      container: 'api',
      node: 'node-2',
      limit: '256Mi',
      request: '128Mi',
      restarts: 3,
      at: AT,
      exitCode: 137,
      logTail: ['allocated 200Mi', 'allocated 250Mi'],
    });
    expect(d.suggestion).toBe(
      'The limit 256Mi is below what `api` reached. It has restarted 3 times. Raise it (e.g. to 384Mi) if this is its normal load, or find the leak if its memory grows over time.',
    );
  });

  it('notes a request far below the limit, and explains a kill without a limit as the node running out', () => {
    const sparse = diagnoseOom(
      { ...pod, spec: { containers: [{ name: 'api', resources: { requests: { memory: '64Mi' }, limits: { memory: '1Gi' } } }] } },
      { ...finding, occurrence: 1 },
    );
    expect(sparse.suggestion).toContain('Raise it (e.g. to 1536Mi)');
    expect(sparse.suggestion).toContain('Its request (64Mi) is far below the limit');
    const unlimited = diagnoseOom({ ...pod, spec: { containers: [{ name: 'api' }] } }, { ...finding, occurrence: 1 });
    expect(unlimited.limit).toBeUndefined();
    expect(unlimited.suggestion).toContain('has no memory limit, so the node itself ran out of memory');
  });

  it('names no raise of its own when the alert shows a fix (the fix is capped by the bound and the nodes)', () => {
    const d = { container: 'api', limit: '10Gi', request: '10Gi', restarts: 3 };
    expect(oomSuggestion(d)).toContain('Raise it (e.g. to 15Gi) if this is its normal load');
    expect(oomSuggestion(d, { fixShown: true })).toBe(
      'The limit 10Gi is below what `api` reached. It has restarted 3 times. Raise it if this is its normal load (the fix on this alert names a value that fits the bounds and the nodes, or says why there is none), or find the leak if its memory grows over time.',
    );
  });
});

describe('crash loop and image pull diagnosis', () => {
  const pod: V1Pod = { metadata: { name: 'api-1', namespace: 'beta' }, spec: { containers: [{ name: 'api' }] } };
  it("keeps the exit code, reason and the previous instance's last lines", () => {
    const d = diagnoseCrash(
      pod,
      { kind: 'CrashLoopBackOff', pod: 'api-1', container: 'api', occurrence: 5, restarts: 5, at: AT, exitCode: 1, reason: 'Error' },
      ['FATAL: no config'],
    );
    expect(d).toMatchObject({ exitCode: 1, reason: 'Error', restarts: 5, logTail: ['FATAL: no config'] });
    expect(
      diagnoseCrash(pod, { kind: 'CrashLoopBackOff', pod: 'api-1', container: 'api', occurrence: 1, at: AT, exitCode: 137 }).suggestion,
    ).toContain('liveness probe');
  });

  it("gives the image and the registry's own error, from the pod or from the Failed event", () => {
    const message = 'Failed to pull image "r.example.com/a:9": rpc error: code = NotFound desc = r.example.com/a:9: not found';
    expect(registryError(message)).toBe('rpc error: code = NotFound desc = r.example.com/a:9: not found');
    const fromPod = diagnoseImagePull(pod, {
      kind: 'ImagePullBackOff',
      pod: 'api-1',
      container: 'api',
      occurrence: 1,
      at: NaN,
      reason: 'ErrImagePull',
      image: 'r.example.com/a:9',
      message,
    });
    expect(fromPod).toMatchObject({
      image: 'r.example.com/a:9',
      reason: 'ErrImagePull',
      error: 'rpc error: code = NotFound desc = r.example.com/a:9: not found',
    });
    expect(fromPod.suggestion).toContain('no such image');
    const fromEvent = diagnoseImagePull(
      pod,
      {
        kind: 'ImagePullBackOff',
        pod: 'api-1',
        container: 'api',
        occurrence: 1,
        at: NaN,
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "x"',
      },
      'Failed to pull image "x": unauthorized: authentication required',
    );
    expect(fromEvent.error).toBe('unauthorized: authentication required');
    expect(fromEvent.suggestion).toContain('pull secret');
  });
});

describe('Unschedulable diagnosis', () => {
  const nodes = [node('node-1', '4', '8Gi'), node('node-2', '4', '8Gi'), node('node-3', '2', '4Gi')];
  const pods = [
    running('a', 'node-1', '3', '6Gi'),
    running('b', 'node-2', '1', '5Gi'),
    running('c', 'node-3', '1', '1Gi'),
    { ...running('done', 'node-2', '4', '8Gi'), status: { phase: 'Succeeded' } },
  ];

  it('sums containers, takes the init peak when larger, and names the node with the most room and what it lacks', () => {
    const pod = pending({
      containers: [
        { name: 'a', resources: { requests: { cpu: '500m', memory: '2Gi' } } },
        { name: 'b', resources: { requests: { cpu: '500m', memory: '2Gi' } } },
      ],
      initContainers: [{ name: 'init', resources: { requests: { cpu: '2', memory: '1Gi' } } }],
    });
    const d = diagnoseUnschedulable(pod, unschedulable('0/3 nodes are available: 3 Insufficient memory.'), { nodes, pods });
    expect(d.requests).toEqual({ cpu: '2', memory: '4Gi' });
    expect(d.roomiest).toEqual({ name: 'node-3', freeCpu: '1', freeMemory: '3Gi', freePods: 109, lacks: ['1 CPU', '1Gi memory'] });
    expect(d.fitsOn).toEqual([]);
    expect(d.countedNamespaces).toBeUndefined();
    expect(d.suggestion).toBe(
      'Lower its requests (2 CPU, 4Gi memory), add a node, or free capacity: the node with the most room, node-3, lacks 1 CPU and 1Gi memory.',
    );
  });

  it('says when no node could take the pod even empty', () => {
    const d = diagnoseUnschedulable(
      pending({ containers: [{ name: 'a', resources: { requests: { memory: '64Gi' } } }] }),
      unschedulable('0/3 nodes are available: 3 Insufficient memory.'),
      { nodes, pods },
    );
    expect(d.suggestion).toContain('No node is big enough even when empty (largest: 4 CPU, 8Gi memory allocatable)');
  });

  it('names untolerated taints and a node selector no node matches when the scheduler mentions them', () => {
    const tainted = [
      ...nodes,
      node('gpu-1', '8', '32Gi', { labels: { gpu: 'true' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    ];
    const message =
      "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 3 node(s) didn't match Pod's node affinity/selector.";
    const d = diagnoseUnschedulable(
      pending({ containers: [{ name: 'a' }], nodeSelector: { gpu: 'true', zone: 'b' } }),
      unschedulable(message),
      { nodes: tainted, pods },
    );
    expect(d.taints).toEqual(['gpu-1: dedicated=gpu:NoSchedule']);
    expect(d.selector).toEqual({ labels: 'gpu=true,zone=b', matchingNodes: 0 });
    expect(d.suggestion).toContain('No node has the labels `gpu=true,zone=b`');
    expect(d.suggestion).toContain('add a toleration if the pod belongs there');
    // A toleration removes the taint from the explanation.
    const tolerated = diagnoseUnschedulable(
      pending({ containers: [{ name: 'a' }], tolerations: [{ key: 'dedicated', operator: 'Exists' }] }),
      unschedulable(message),
      { nodes: tainted, pods },
    );
    expect(tolerated.taints).toEqual([]);
  });

  it('says which namespaces were counted when the bot could not list every pod, and why the pod may still fit', () => {
    const d = diagnoseUnschedulable(
      pending({ containers: [{ name: 'a', resources: { requests: { memory: '1Gi' } } }] }),
      unschedulable('0/3 nodes are available: 3 Insufficient memory.'),
      { nodes, pods: [], countedNamespaces: ['prod'] },
    );
    expect(d.fitsOn).toEqual(['node-1', 'node-2', 'node-3']);
    expect(d.suggestion).toContain(
      'By the requests of the pods in prod it would fit on node-1, node-2, node-3: pods in other namespaces hold that room.',
    );
  });
});
