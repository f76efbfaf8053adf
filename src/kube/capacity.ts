/**
 * Requests versus allocatable, as the scheduler counts them. Pure: reads only
 * the objects given (no cluster calls), so `nodes`, `pods`, diagnosis and alerts
 * ("which node has the most room?") share one reading of the numbers.
 *
 * Units are explicit in the names: CPU in millicores (integers, rounded up as
 * Kubernetes' MilliValue does), memory in bytes (rounded up to whole bytes).
 */
import type { V1Container, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { timeMs } from './time.js';

export interface Requests {
  cpuMillis: number;
  memoryBytes: number;
}

export const ZERO_REQUESTS: Readonly<Requests> = Object.freeze({ cpuMillis: 0, memoryBytes: 0 });

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const FRACTIONAL = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** A resource quantity the way Kubernetes spells it was not understood. */
export class QuantityError extends Error {
  constructor(readonly quantity: string) {
    super(`not a Kubernetes quantity: ${JSON.stringify(quantity.slice(0, 40))}`);
    this.name = 'QuantityError';
  }
}

/**
 * Quantity → number in base units (cores, bytes, pods). client-node's
 * `quantityToScalar` does the parsing; it refuses fractional values with a
 * suffix that it turns into BigInt ("1.5Gi", "0.5k"), which Kubernetes accepts,
 * so those are scaled here. Absent or empty is 0; anything else unparsable throws.
 */
export function parseQuantity(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === '') return 0;
  if (typeof q === 'number') return q;
  const text = q.trim();
  try {
    const value = Number(quantityToScalar(text));
    if (Number.isFinite(value)) return value;
  } catch {
    // fall through to the fractional form
  }
  const m = FRACTIONAL.exec(text);
  if (!m) throw new QuantityError(text);
  const suffix = m[2] ?? '';
  return Number(m[1]) * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** Tolerant form for objects read from the API (which validated them already): unparsable counts as 0. */
function quantityOrZero(q: string | number | undefined | null): number {
  try {
    return parseQuantity(q);
  } catch {
    return 0;
  }
}

export const cpuMillis = (q: string | number | undefined | null): number => Math.ceil(Math.round(quantityOrZero(q) * 1e9) / 1e6);
export const memoryBytes = (q: string | number | undefined | null): number => Math.ceil(quantityOrZero(q));

function containerRequests(c: Pick<V1Container, 'resources'>): Requests {
  const requests = c.resources?.requests ?? {};
  return { cpuMillis: cpuMillis(requests.cpu), memoryBytes: memoryBytes(requests.memory) };
}

export const addRequests = (a: Requests, b: Requests): Requests => ({
  cpuMillis: a.cpuMillis + b.cpuMillis,
  memoryBytes: a.memoryBytes + b.memoryBytes,
});
const maxRequests = (a: Requests, b: Requests): Requests => ({
  cpuMillis: Math.max(a.cpuMillis, b.cpuMillis),
  memoryBytes: Math.max(a.memoryBytes, b.memoryBytes),
});

/**
 * What the scheduler reserves for a pod: the larger of (app containers + sidecars)
 * and the peak of the init phase (each init container runs alone next to the
 * sidecars started before it), plus the RuntimeClass overhead.
 */
export function podRequests(pod: V1Pod): Requests {
  let sidecars: Requests = ZERO_REQUESTS;
  let initPeak: Requests = ZERO_REQUESTS;
  for (const init of pod.spec?.initContainers ?? []) {
    const own = containerRequests(init);
    if (init.restartPolicy === 'Always') {
      sidecars = addRequests(sidecars, own);
      initPeak = maxRequests(initPeak, sidecars);
    } else {
      initPeak = maxRequests(initPeak, addRequests(sidecars, own));
    }
  }
  const running = (pod.spec?.containers ?? []).reduce((sum, c) => addRequests(sum, containerRequests(c)), sidecars);
  const overhead = pod.spec?.overhead ?? {};
  return addRequests(maxRequests(running, initPeak), { cpuMillis: cpuMillis(overhead.cpu), memoryBytes: memoryBytes(overhead.memory) });
}

/** Succeeded and Failed pods hold no resources on their node (the scheduler ignores them). */
export function holdsResources(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export interface NodeConditionView {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  /** lastTransitionTime (ms); NaN when not given. */
  since: number;
}

const SHOWN_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** The conditions `nodes` shows, in a fixed order. */
export function nodeConditions(node: V1Node): NodeConditionView[] {
  return SHOWN_CONDITIONS.flatMap((type) => {
    const c = node.status?.conditions?.find((x) => x.type === type);
    if (!c) return [];
    return [
      {
        type,
        status: c.status,
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
        since: timeMs(c.lastTransitionTime),
      },
    ];
  });
}

export interface NodeCapacity {
  name: string;
  labels: Record<string, string>;
  taints: V1Taint[];
  ready: boolean;
  /** Ready and the Memory/Disk/PID pressures, as the node reports them (absent ones left out). */
  conditions?: NodeConditionView[];
  /** Cordoned (`spec.unschedulable`). */
  unschedulable: boolean;
  allocatable: Requests & { pods: number };
  requested: Requests;
  /** Pods holding resources on the node (not Succeeded/Failed). */
  podCount: number;
  /** Allocatable minus requested, never below 0. */
  free: Requests & { pods: number };
  /** Requested as a share of allocatable, truncated like `kubectl describe node` (0 when nothing is allocatable). */
  percent: { cpu: number; memory: number; pods: number };
}

/** Whole percent, truncated as kubectl does. */
export function percentOf(used: number, total: number): number {
  return total > 0 ? Math.floor((used / total) * 100) : 0;
}

/** One node's numbers, from the node and the pods bound to it (others are ignored). */
export function nodeCapacity(node: V1Node, pods: readonly V1Pod[]): NodeCapacity {
  const name = node.metadata?.name ?? '?';
  const source = node.status?.allocatable ?? node.status?.capacity ?? {};
  const allocatable = {
    cpuMillis: cpuMillis(source.cpu),
    memoryBytes: memoryBytes(source.memory),
    pods: Math.floor(quantityOrZero(source.pods)),
  };
  const here = pods.filter((p) => p.spec?.nodeName === name && holdsResources(p));
  const requested = here.reduce((sum, p) => addRequests(sum, podRequests(p)), ZERO_REQUESTS);
  return {
    name,
    labels: { ...(node.metadata?.labels ?? {}) },
    taints: [...(node.spec?.taints ?? [])],
    ready: node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    conditions: nodeConditions(node),
    unschedulable: node.spec?.unschedulable === true,
    allocatable,
    requested,
    podCount: here.length,
    free: {
      cpuMillis: Math.max(0, allocatable.cpuMillis - requested.cpuMillis),
      memoryBytes: Math.max(0, allocatable.memoryBytes - requested.memoryBytes),
      pods: Math.max(0, allocatable.pods - here.length),
    },
    percent: {
      cpu: percentOf(requested.cpuMillis, allocatable.cpuMillis),
      memory: percentOf(requested.memoryBytes, allocatable.memoryBytes),
      pods: percentOf(here.length, allocatable.pods),
    },
  };
}

/** Every node's numbers, sorted by name; pods are grouped by `spec.nodeName` once. */
export function clusterCapacity(nodes: readonly V1Node[], pods: readonly V1Pod[]): NodeCapacity[] {
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node) continue;
    const list = byNode.get(node);
    if (list) list.push(pod);
    else byNode.set(node, [pod]);
  }
  return nodes.map((n) => nodeCapacity(n, byNode.get(n.metadata?.name ?? '') ?? [])).sort((a, b) => a.name.localeCompare(b.name));
}

/** Does a pod with these requests fit the node's free room (resources and pod slots; taints and affinity not considered)? */
export function fits(node: NodeCapacity, requests: Requests): boolean {
  return node.free.pods >= 1 && node.free.cpuMillis >= requests.cpuMillis && node.free.memoryBytes >= requests.memoryBytes;
}

/**
 * The ready, schedulable node with the most room: the largest free share of its
 * tighter resource (so a node with lots of CPU but no memory does not win).
 * With `requests`, only nodes the pod fits are considered. Taints, affinity and
 * node selectors are not considered. Undefined when no node qualifies.
 */
export function nodeWithMostRoom(nodes: readonly NodeCapacity[], requests?: Requests): NodeCapacity | undefined {
  const share = (free: number, total: number) => (total > 0 ? free / total : 0);
  const score = (n: NodeCapacity) =>
    Math.min(share(n.free.cpuMillis, n.allocatable.cpuMillis), share(n.free.memoryBytes, n.allocatable.memoryBytes));
  let best: NodeCapacity | undefined;
  for (const node of nodes) {
    if (!node.ready || node.unschedulable || node.free.pods < 1) continue;
    if (requests && !fits(node, requests)) continue;
    if (!best || score(node) > score(best) || (score(node) === score(best) && node.free.memoryBytes > best.free.memoryBytes)) best = node;
  }
  return best;
}

/**
 * The node with the most allocatable CPU (millicores) or memory (bytes), ready or not: an upper
 * bound for what one pod can ever get in the cluster. Undefined when there are no nodes.
 */
export function largestAllocatable(nodes: readonly V1Node[], resource: 'cpu' | 'memory'): { node: string; amount: number } | undefined {
  let best: { node: string; amount: number } | undefined;
  for (const n of nodes) {
    const source = n.status?.allocatable ?? n.status?.capacity ?? {};
    const amount = resource === 'cpu' ? cpuMillis(source.cpu) : memoryBytes(source.memory);
    if (!best || amount > best.amount) best = { node: n.metadata?.name ?? '?', amount };
  }
  return best;
}

/** CPU as Kubernetes prints it: whole cores as "2", otherwise millicores "250m". */
export function formatCpu(millis: number): string {
  const m = Math.ceil(millis);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/**
 * Memory as Kubernetes prints a quantity: the largest binary suffix that is
 * exact ("640Mi", "8Gi"), else the largest exact decimal suffix ("1G"), else bytes.
 */
export function formatMemory(bytes: number): string {
  const b = Math.ceil(bytes);
  if (b === 0) return '0';
  for (const [suffix, factor] of [
    ['Ei', BINARY.Ei!],
    ['Pi', BINARY.Pi!],
    ['Ti', BINARY.Ti!],
    ['Gi', BINARY.Gi!],
    ['Mi', BINARY.Mi!],
    ['Ki', BINARY.Ki!],
  ] as const) {
    if (b % factor === 0) return `${b / factor}${suffix}`;
  }
  for (const [suffix, factor] of [
    ['E', 1e18],
    ['P', 1e15],
    ['T', 1e12],
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const) {
    if (b % factor === 0) return `${b / factor}${suffix}`;
  }
  return String(b);
}
