/**
 * The numbers behind an alert's fix, pure: a raised memory limit rounded to a
 * quantity a person would pick, and the request that fits a node's free room.
 */
import type { NodeCapacity, Requests } from '../kube/capacity.js';

const MI = 2 ** 20;
const GI = 2 ** 30;

/** The step a person would round memory to at this size: 64Mi below 1Gi, 128Mi below 4Gi, 256Mi above. */
function memoryStep(bytes: number): number {
  return bytes < GI ? 64 * MI : bytes < 4 * GI ? 128 * MI : 256 * MI;
}

/** Rounded up to a sensible quantity: 300Mi → 320Mi, 1.1Gi → 1152Mi, 5Gi+1 → 5376Mi. */
export function roundMemoryUp(bytes: number): number {
  if (bytes <= 0) return 0;
  const step = memoryStep(bytes);
  return Math.ceil(bytes / step) * step;
}

/** Rounded down to a sensible quantity (16Mi steps below 256Mi, then as roundMemoryUp); 0 when below 16Mi. */
export function roundMemoryDown(bytes: number): number {
  if (bytes <= 0) return 0;
  const step = bytes < 256 * MI ? 16 * MI : memoryStep(bytes);
  return Math.floor(bytes / step) * step;
}

/** CPU rounded down: 10m steps below one core, 50m above. */
export function roundCpuDown(millis: number): number {
  if (millis <= 0) return 0;
  const step = millis < 1000 ? 10 : 50;
  return Math.floor(millis / step) * step;
}

export type LimitRaise =
  /**
   * Raise to `bytes`; `capped` says which bound was below 1.5 × and is offered instead:
   * the environment's (`limits.maxMemory`) or the largest node's allocatable memory.
   */
  | { kind: 'raise'; bytes: number; capped: false | 'bound' | 'node'; from: 'peak' | 'limit' }
  /** The limit is already at (or above) the environment's bound. */
  | { kind: 'at-bound'; boundBytes: number }
  /** No node has more to give: the limit is already above the largest node's allocatable (`over`), or no sensible step up fits it. */
  | { kind: 'at-node'; nodeBytes: number; over: boolean }
  /** Neither a limit nor a peak to go by. */
  | { kind: 'unknown' };

/**
 * X = 1.5 × max(observed peak, current limit), rounded up, never above the
 * environment's bound (`maxBytes`) nor the largest node's allocatable memory
 * (`nodeBytes`, rounded down: a container can never get more than one node has).
 */
export function raisedMemoryLimit(o: { limitBytes?: number; peakBytes?: number; maxBytes?: number; nodeBytes?: number }): LimitRaise {
  const limit = o.limitBytes ?? 0;
  const peak = o.peakBytes ?? 0;
  const base = Math.max(limit, peak);
  if (base <= 0) return { kind: 'unknown' };
  if (o.nodeBytes !== undefined && limit > o.nodeBytes) return { kind: 'at-node', nodeBytes: o.nodeBytes, over: true };
  const from = peak > limit ? 'peak' : 'limit';
  const wanted = roundMemoryUp(base * 1.5);
  const bound = o.maxBytes ?? Infinity;
  const node = o.nodeBytes !== undefined ? roundMemoryDown(o.nodeBytes) : Infinity;
  if (wanted <= bound && wanted <= node) return { kind: 'raise', bytes: wanted, capped: false, from };
  if (bound <= node) {
    return limit >= bound ? { kind: 'at-bound', boundBytes: bound } : { kind: 'raise', bytes: bound, capped: 'bound', from };
  }
  return limit >= node
    ? { kind: 'at-node', nodeBytes: o.nodeBytes ?? node, over: false }
    : { kind: 'raise', bytes: node, capped: 'node', from };
}

/**
 * The container's request that lets the pod fit `room` (a node's free
 * allocatable): the room minus what the pod's other containers ask.
 */
export function requestThatFits(o: { current: number; podTotal: number; room: number }): number {
  return o.room - (o.podTotal - o.current);
}

export type ScarceResource = 'cpu' | 'memory';

/** The resources the scheduler says are short ("Insufficient memory"), in a stable order. */
export function scarceResources(schedulerMessage: string | undefined): ScarceResource[] {
  const named = new Set([...(schedulerMessage ?? '').matchAll(/Insufficient (cpu|memory)\b/g)].map((m) => m[1] as ScarceResource));
  return (['memory', 'cpu'] as const).filter((r) => named.has(r));
}

export const amount = (r: Requests, resource: ScarceResource) => (resource === 'memory' ? r.memoryBytes : r.cpuMillis);

/**
 * The ready, schedulable node (with a free pod slot) where the pod needs the
 * smallest cut of its scarce requests: the largest free share of what it asks.
 */
export function roomiestFor(
  nodes: readonly NodeCapacity[],
  requests: Requests,
  scarce: readonly ScarceResource[],
): NodeCapacity | undefined {
  const score = (n: NodeCapacity) =>
    Math.min(...scarce.map((r) => (amount(requests, r) > 0 ? amount(n.free, r) / amount(requests, r) : Infinity)));
  let best: NodeCapacity | undefined;
  for (const node of nodes) {
    if (!node.ready || node.unschedulable || node.free.pods < 1) continue;
    if (!best || score(node) > score(best)) best = node;
  }
  return best;
}
