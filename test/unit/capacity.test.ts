import { describe, expect, it } from 'vitest';
import type { V1Container, V1Node, V1Pod } from '@kubernetes/client-node';
import {
  QuantityError,
  clusterCapacity,
  cpuMillis,
  fits,
  formatCpu,
  formatMemory,
  memoryBytes,
  nodeCapacity,
  nodeWithMostRoom,
  parseQuantity,
  percentOf,
  podRequests,
} from '../../src/kube/capacity.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

const container = (name: string, cpu?: string, memory?: string, extra: Partial<V1Container> = {}): V1Container => ({
  name,
  ...(cpu || memory ? { resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } } : {}),
  ...extra,
});

const pod = (
  name: string,
  node: string | undefined,
  containers: V1Container[],
  over: { init?: V1Container[]; phase?: string; overhead?: Record<string, string> } = {},
): V1Pod => ({
  metadata: { name, namespace: 'beta' },
  spec: {
    ...(node ? { nodeName: node } : {}),
    containers,
    ...(over.init ? { initContainers: over.init } : {}),
    ...(over.overhead ? { overhead: over.overhead } : {}),
  },
  status: { phase: over.phase ?? 'Running' },
});

const node = (
  name: string,
  cpu: string,
  memory: string,
  over: { pods?: string; ready?: boolean; unschedulable?: boolean; labels?: Record<string, string> } = {},
): V1Node => ({
  metadata: { name, labels: over.labels ?? { 'kubernetes.io/hostname': name } },
  spec: over.unschedulable ? { unschedulable: true } : {},
  status: {
    allocatable: { cpu, memory, pods: over.pods ?? '110' },
    capacity: { cpu, memory, pods: over.pods ?? '110' },
    conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
  },
});

describe('quantities, parsed with client-node and printed the Kubernetes way', () => {
  it('parses cpu and memory in every suffix, fractional binary ones included', () => {
    expect(cpuMillis('100m')).toBe(100);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('0.5')).toBe(500);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis('250000u')).toBe(250);
    expect(cpuMillis('1n')).toBe(1); // rounded up, like MilliValue
    expect(memoryBytes('128Mi')).toBe(128 * Mi);
    expect(memoryBytes('1.5Gi')).toBe(1.5 * Gi); // client-node's quantityToScalar throws on this
    expect(memoryBytes('1G')).toBe(1e9);
    expect(memoryBytes('500M')).toBe(5e8);
    expect(memoryBytes('16374584Ki')).toBe(16374584 * 1024);
    expect(memoryBytes('1e3')).toBe(1000);
    expect(parseQuantity(undefined)).toBe(0);
    expect(parseQuantity('')).toBe(0);
    expect(parseQuantity(3)).toBe(3);
  });

  it('refuses what is not a quantity', () => {
    expect(() => parseQuantity('lots')).toThrow(QuantityError);
    expect(() => parseQuantity('12Zi')).toThrow(QuantityError);
  });

  it('prints cpu as cores or millicores and memory with the largest exact suffix', () => {
    expect(formatCpu(2000)).toBe('2');
    expect(formatCpu(850)).toBe('850m');
    expect(formatCpu(1500)).toBe('1500m');
    expect(formatCpu(0)).toBe('0');
    expect(formatMemory(640 * Mi)).toBe('640Mi');
    expect(formatMemory(8 * Gi)).toBe('8Gi');
    expect(formatMemory(1.5 * Gi)).toBe('1536Mi');
    expect(formatMemory(1e9)).toBe('1G');
    expect(formatMemory(1234567)).toBe('1234567');
    expect(formatMemory(0)).toBe('0');
  });

  it('truncates percentages like kubectl describe node and never divides by zero', () => {
    expect(percentOf(850, 4000)).toBe(21);
    expect(percentOf(1, 3)).toBe(33);
    expect(percentOf(5, 0)).toBe(0);
  });
});

describe('what a pod requests', () => {
  it('sums its containers', () => {
    expect(podRequests(pod('p', 'n', [container('a', '100m', '128Mi'), container('b', '250m', '64Mi')]))).toEqual({
      cpuMillis: 350,
      memoryBytes: 192 * Mi,
    });
  });

  it('counts nothing for containers without requests', () => {
    expect(podRequests(pod('p', 'n', [container('a')]))).toEqual({ cpuMillis: 0, memoryBytes: 0 });
  });

  it('takes the larger of the containers and the biggest init container, per resource', () => {
    const p = pod('p', 'n', [container('app', '100m', '128Mi')], {
      init: [container('migrate', '500m', '64Mi'), container('warm', '50m', '256Mi')],
    });
    expect(podRequests(p)).toEqual({ cpuMillis: 500, memoryBytes: 256 * Mi });
  });

  it('counts sidecars (init containers that keep running) next to the app and during later init containers', () => {
    const p = pod('p', 'n', [container('app', '100m', '100Mi')], {
      init: [container('proxy', '50m', '50Mi', { restartPolicy: 'Always' }), container('migrate', '400m', '10Mi')],
    });
    // running: app + proxy = 150m/150Mi; init peak: proxy + migrate = 450m/60Mi
    expect(podRequests(p)).toEqual({ cpuMillis: 450, memoryBytes: 150 * Mi });
  });

  it('adds the runtime class overhead', () => {
    expect(podRequests(pod('p', 'n', [container('a', '100m', '128Mi')], { overhead: { cpu: '10m', memory: '16Mi' } }))).toEqual({
      cpuMillis: 110,
      memoryBytes: 144 * Mi,
    });
  });
});

describe('requested versus allocatable per node', () => {
  const nodes = [node('node-2', '4', '8Gi'), node('node-1', '3920m', '16374584Ki', { pods: '4' })];
  const pods = [
    pod('a', 'node-1', [container('c', '1', '1Gi')]),
    pod('b', 'node-1', [container('c', '500m', '512Mi')]),
    pod('done', 'node-1', [container('c', '2', '4Gi')], { phase: 'Succeeded' }),
    pod('failed', 'node-1', [container('c', '2', '4Gi')], { phase: 'Failed' }),
    pod('c', 'node-2', [container('c', '100m', '128Mi')]),
    pod('pending', undefined, [container('c', '8', '64Gi')], { phase: 'Pending' }),
  ];

  it('counts only pods bound to the node that still hold resources', () => {
    const one = nodeCapacity(nodes[1]!, pods);
    expect(one.requested).toEqual({ cpuMillis: 1500, memoryBytes: 1.5 * Gi });
    expect(one.podCount).toBe(2);
    expect(one.allocatable).toEqual({ cpuMillis: 3920, memoryBytes: 16374584 * 1024, pods: 4 });
    expect(one.percent).toEqual({ cpu: 38, memory: 9, pods: 50 });
    expect(one.free).toEqual({ cpuMillis: 2420, memoryBytes: 16374584 * 1024 - 1.5 * Gi, pods: 2 });
  });

  it('lists every node, sorted by name, unscheduled pods on none', () => {
    const all = clusterCapacity(nodes, pods);
    expect(all.map((n) => [n.name, n.podCount, formatCpu(n.requested.cpuMillis)])).toEqual([
      ['node-1', 2, '1500m'],
      ['node-2', 1, '100m'],
    ]);
  });

  it('never reports negative free room on an overcommitted node', () => {
    const full = nodeCapacity(node('small', '1', '1Gi'), [pod('big', 'small', [container('c', '2', '2Gi')])]);
    expect(full.free).toEqual({ cpuMillis: 0, memoryBytes: 0, pods: 109 });
    expect(full.percent.cpu).toBe(200);
  });

  it('reads capacity when a node reports no allocatable', () => {
    const n = node('old', '2', '4Gi');
    delete n.status!.allocatable;
    expect(nodeCapacity(n, []).allocatable).toEqual({ cpuMillis: 2000, memoryBytes: 4 * Gi, pods: 110 });
  });
});

describe('the node with the most room', () => {
  const caps = clusterCapacity(
    [
      node('busy', '4', '8Gi'),
      node('roomy', '4', '8Gi'),
      node('cpu-only', '16', '2Gi'),
      node('down', '64', '256Gi', { ready: false }),
      node('cordoned', '64', '256Gi', { unschedulable: true }),
    ],
    [
      pod('x', 'busy', [container('c', '3', '6Gi')]),
      pod('y', 'roomy', [container('c', '1', '1Gi')]),
      pod('z', 'cpu-only', [container('c', '100m', '1536Mi')]),
    ],
  );

  it('judges a node by its tighter resource and skips NotReady and cordoned nodes', () => {
    expect(nodeWithMostRoom(caps)?.name).toBe('roomy');
  });

  it('considers only nodes the pod fits', () => {
    expect(
      fits(
        caps.find((n) => n.name === 'busy')!,
        { cpuMillis: 2000, memoryBytes: Gi },
      ),
    ).toBe(false);
    expect(nodeWithMostRoom(caps, { cpuMillis: 8000, memoryBytes: 100 * Mi })?.name).toBe('cpu-only');
    expect(nodeWithMostRoom(caps, { cpuMillis: 100, memoryBytes: 64 * Gi })).toBeUndefined();
  });
});
