/**
 * `kubectl set resources` for one container: a strategic merge patch that names
 * the container by its merge key and sets only the requests and limits given.
 * Rendered apps also keep the change as an annotation on the workload, which
 * `deploy` merges over the config's resources, so a later deploy keeps it.
 * Pure, apart from nothing: no cluster calls here.
 */
import type { V1Node, V1ResourceRequirements } from '@kubernetes/client-node';
import { cpuMillis, formatCpu, formatMemory, largestAllocatable, memoryBytes, parseQuantity } from '../capacity.js';
import type { AnyWorkload } from './types.js';

/** Our field manager for resource changes (rendered and adopted workloads alike). */
export const FIELD_MANAGER_SET_RESOURCES = 'k8s-chatops-set-resources';
/** On a rendered workload: the requests and limits set in chat, as JSON; `deploy` applies them over the config's. */
export const ANNOTATION_RESOURCES = 'k8s-chatops.io/resources';

export type ResourceName = 'cpu' | 'memory';
/** Requests and limits by resource, quantities as Kubernetes spells them. */
export interface ResourceSettings {
  requests?: Partial<Record<ResourceName, string>>;
  limits?: Partial<Record<ResourceName, string>>;
}
type Side = keyof ResourceSettings;
const SIDES: readonly Side[] = ['requests', 'limits'];
const NAMES: readonly ResourceName[] = ['cpu', 'memory'];

/** Normalises a resource list read from an object (numbers become strings; other resources are kept). */
function listOf(list: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(list ?? {}).map(([k, v]) => [k, String(v)]));
}

/** `change` over `base`: the keys `change` names replace those of `base`, the rest of `base` stays. */
export function mergeResources(base: V1ResourceRequirements | ResourceSettings | undefined, change: ResourceSettings | undefined) {
  const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  for (const side of SIDES) {
    const merged = { ...listOf(base?.[side] as Record<string, unknown> | undefined), ...listOf(change?.[side]) };
    if (Object.keys(merged).length > 0) out[side] = merged;
  }
  return out;
}

/** The first request above its limit in these resources ("memory request 1Gi is above its limit 512Mi"), if any. */
export function requestAboveLimit(res: { requests?: Record<string, string>; limits?: Record<string, string> }): string | undefined {
  for (const [name, limit] of Object.entries(res.limits ?? {})) {
    const request = res.requests?.[name];
    if (request === undefined) continue;
    try {
      if (parseQuantity(request) > parseQuantity(limit)) return `${name} request ${request} is above its limit ${limit}`;
    } catch {
      // Quantities on a live object were validated by the API server; a config typo is caught at start-up.
    }
  }
  return undefined;
}

/** The requests and limits set in chat on a rendered workload (its annotation); empty when none or unreadable. */
export function chatResources(obj: AnyWorkload | undefined): ResourceSettings {
  const raw = obj?.metadata?.annotations?.[ANNOTATION_RESOURCES];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const out: ResourceSettings = {};
    for (const side of SIDES) {
      const list = parsed[side] as Record<string, unknown> | undefined;
      if (!list || typeof list !== 'object') continue;
      const kept = Object.fromEntries(NAMES.filter((n) => typeof list[n] === 'string').map((n) => [n, list[n] as string]));
      if (Object.keys(kept).length > 0) out[side] = kept;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * The patch: the container's requests and limits that change (the others are
 * left as they are), our annotations on the workload, and for a rendered app
 * the chat-set resources to keep across deploys.
 */
export function setResourcesPatch(container: string, change: ResourceSettings, annotations: Record<string, string>): object {
  return {
    metadata: { annotations },
    spec: { template: { spec: { containers: [{ name: container, resources: mergeResources(undefined, change) }] } } },
  };
}

/** "memory limit 256Mi → 384Mi" for each value the change sets. */
export function describeResourceChange(before: V1ResourceRequirements | undefined, change: ResourceSettings): string[] {
  const lines: string[] = [];
  for (const side of SIDES) {
    for (const name of NAMES) {
      const to = change[side]?.[name];
      if (to === undefined) continue;
      const from = (before?.[side] as Record<string, string | number> | undefined)?.[name];
      const label = `${name} ${side === 'requests' ? 'request' : 'limit'}`;
      lines.push(`${label} ${from === undefined ? 'none' : String(from)} → ${to}`);
    }
  }
  return lines;
}

/** A value no node can give: what was asked, and the largest allocatable in the cluster and its node. */
export interface AboveEveryNode {
  side: Side;
  resource: ResourceName;
  value: string;
  largest: string;
  node: string;
}

/** How a change sits against the cluster's nodes: the first value above every node's allocatable, and the resources no node reports. */
export interface NodeFit {
  above?: AboveEveryNode;
  /** Resources the change sets that no node reports an allocatable amount of (or no nodes at all): nothing to compare with. */
  unknown: ResourceName[];
}

/**
 * Each value of the change against the largest allocatable of its resource among `nodes`: a request
 * so large is never scheduled, and a limit without a request becomes the request. Pure.
 */
export function nodeFit(change: ResourceSettings, nodes: readonly V1Node[]): NodeFit {
  const unknown: ResourceName[] = [];
  for (const resource of NAMES) {
    const values = SIDES.flatMap((side) => {
      const value = change[side]?.[resource];
      return value === undefined ? [] : [{ side, value }];
    });
    if (values.length === 0) continue;
    const largest = largestAllocatable(nodes, resource);
    if (!largest || largest.amount <= 0) {
      unknown.push(resource);
      continue;
    }
    const over = values.find(({ value }) => (resource === 'cpu' ? cpuMillis(value) : memoryBytes(value)) > largest.amount);
    if (over) {
      const shown = resource === 'cpu' ? formatCpu(largest.amount) : formatMemory(largest.amount);
      return { above: { side: over.side, resource, value: over.value, largest: shown, node: largest.node }, unknown };
    }
  }
  return { unknown };
}

/**
 * The values of the change (of `resources` only) above what the container has now on the same side, or
 * that it does not set: those a node may not have room for when the nodes cannot say. Lowering never is.
 */
export function raisedValues(
  change: ResourceSettings,
  current: V1ResourceRequirements | undefined,
  resources: readonly ResourceName[],
): Array<{ side: Side; resource: ResourceName; value: string; now?: string }> {
  const raised: Array<{ side: Side; resource: ResourceName; value: string; now?: string }> = [];
  for (const resource of resources) {
    for (const side of SIDES) {
      const value = change[side]?.[resource];
      if (value === undefined) continue;
      const live = (current?.[side] as Record<string, string | number> | undefined)?.[resource];
      const amount = (q: string | number) => (resource === 'cpu' ? cpuMillis(q) : memoryBytes(q));
      if (live === undefined) raised.push({ side, resource, value });
      else if (amount(value) > amount(live)) raised.push({ side, resource, value, now: String(live) });
    }
  }
  return raised;
}
