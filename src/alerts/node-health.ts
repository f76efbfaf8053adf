/**
 * Node health and evictions as on-call alerts see them, as pure functions: which
 * node conditions alert (Ready not True → NodeNotReady; Memory/Disk/PID pressure
 * True → NodePressure), when they cleared, an evicted pod, and the diagnoses
 * stored with each occurrence.
 */
import type { V1Node, V1NodeCondition, V1Pod } from '@kubernetes/client-node';
import { timeMs } from '../kube/time.js';

export const PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
/** Every condition a node alert is about. */
export const NODE_CONDITIONS = ['Ready', ...PRESSURE_CONDITIONS] as const;
export type NodeConditionType = (typeof NODE_CONDITIONS)[number];

/** A node condition that alerts, identified so that seeing it again is not a new occurrence. */
export interface NodeFinding {
  kind: 'NodeNotReady' | 'NodePressure';
  node: string;
  condition: NodeConditionType;
  /** True, False or Unknown, as the condition says. */
  status: string;
  reason?: string;
  /** The kubelet's (or the node controller's) message, verbatim. */
  message?: string;
  /** Since when (lastTransitionTime, ms); NaN if the API did not say. */
  at: number;
  /** The transition (seconds since the epoch; 1 when unknown): a new transition is a new occurrence. */
  occurrence: number;
}

const conditionOf = (node: V1Node | undefined, type: string): V1NodeCondition | undefined =>
  node?.status?.conditions?.find((c) => c.type === type);

/** What is wrong with the node now: Ready not True, then each pressure that is True. A node without a Ready condition yet reports nothing. */
export function nodeFindings(node: V1Node): NodeFinding[] {
  const name = node.metadata?.name ?? '?';
  const finding = (kind: NodeFinding['kind'], c: V1NodeCondition): NodeFinding => {
    const at = timeMs(c.lastTransitionTime);
    return {
      kind,
      node: name,
      condition: c.type as NodeConditionType,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      at,
      occurrence: Number.isFinite(at) ? Math.floor(at / 1_000) : 1,
    };
  };
  const out: NodeFinding[] = [];
  const ready = conditionOf(node, 'Ready');
  if (ready && ready.status !== 'True') out.push(finding('NodeNotReady', ready));
  for (const type of PRESSURE_CONDITIONS) {
    const c = conditionOf(node, type);
    if (c?.status === 'True') out.push(finding('NodePressure', c));
  }
  return out;
}

/** Has the condition cleared (a node that is gone counts as cleared)? */
export function conditionCleared(node: V1Node | undefined, condition: string): boolean {
  if (!node) return true;
  const c = conditionOf(node, condition);
  if (condition === 'Ready') return c?.status === 'True';
  return c?.status !== 'True';
}

/** What the node watch keeps: identity and the conditions alerts read. */
export function slimNode(node: V1Node): V1Node {
  const m = node.metadata ?? {};
  return {
    metadata: { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion },
    status: {
      conditions: (node.status?.conditions ?? [])
        .filter((c) => (NODE_CONDITIONS as readonly string[]).includes(c.type))
        .map((c) => ({
          type: c.type,
          status: c.status,
          ...(c.reason ? { reason: c.reason } : {}),
          ...(c.message ? { message: c.message } : {}),
          ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime } : {}),
        })),
    },
  };
}

/** Workloads with pods on the node, per environment. */
export interface WorkloadsOnNode {
  env: string;
  workloads: Array<{ kind: string; name: string; pods: number }>;
}

/** A finding with what it hits and what to do about it. */
export interface NodeDiagnosis extends Omit<NodeFinding, 'occurrence'> {
  /** What runs there, in the watched environments. */
  affected: WorkloadsOnNode[];
  suggestion: string;
}

export interface EvictedDiagnosis {
  kind: 'Evicted';
  pod: string;
  namespace: string;
  node?: string;
  at: number;
  /** The kubelet's message ("The node was low on resource: memory. …"). */
  message?: string;
  /** The starved resource, when the message names it. */
  resource?: string;
  suggestion: string;
}

export function nodeSuggestion(f: Pick<NodeFinding, 'kind' | 'condition' | 'status'>): string {
  if (f.kind === 'NodeNotReady') {
    return f.status === 'Unknown'
      ? 'The kubelet stopped reporting: the node may be down or cut off. Pods there are evicted after the taint toleration (5 min by default); check the machine and its kubelet.'
      : 'The kubelet reports the node not ready: check its runtime and network plugin (`kubectl describe node`). New pods are not scheduled there.';
  }
  const what = { MemoryPressure: 'memory', DiskPressure: 'disk', PIDPressure: 'process IDs' }[
    f.condition as (typeof PRESSURE_CONDITIONS)[number]
  ];
  return `The node is short of ${what ?? 'a resource'}: the kubelet evicts pods (lowest priority and most over their requests first) until it recovers, and new pods avoid it. Set requests close to real use, or add room.`;
}

export function evictedFinding(pod: V1Pod): { kind: 'Evicted'; pod: string; occurrence: number; at: number; message?: string } | undefined {
  if (pod.status?.phase !== 'Failed' || pod.status.reason !== 'Evicted') return undefined;
  const finished = (pod.status.containerStatuses ?? [])
    .map((s) => timeMs(s.state?.terminated?.finishedAt))
    .filter(Number.isFinite)
    .sort((a, b) => b - a)[0];
  return {
    kind: 'Evicted',
    pod: pod.metadata?.name ?? '?',
    occurrence: 1,
    at: finished ?? NaN,
    ...(pod.status.message ? { message: pod.status.message } : {}),
  };
}

export function diagnoseEvicted(pod: V1Pod, at: number): EvictedDiagnosis {
  const message = pod.status?.message;
  const resource = message ? /low on resource: ([\w-]+)/.exec(message)?.[1] : undefined;
  return {
    kind: 'Evicted',
    pod: pod.metadata?.name ?? '?',
    namespace: pod.metadata?.namespace ?? '?',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    at,
    ...(message ? { message: capText(message) } : {}),
    ...(resource ? { resource } : {}),
    suggestion: resource
      ? `The node ran short of ${resource} and the kubelet evicted this pod; its controller starts a replacement elsewhere. Set the ${resource} request close to what the pod really uses, so the scheduler keeps room for it.`
      : 'The kubelet evicted this pod; its controller starts a replacement. Check the node for pressure.',
  };
}

const MAX_TEXT = 1_000;
const MAX_LISTED = 20;

export function capText(s: string, max = MAX_TEXT): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Stored with every occurrence: bounded whatever the cluster says. */
export function capNodeDiagnosis(d: NodeDiagnosis): NodeDiagnosis {
  return {
    ...d,
    ...(d.message ? { message: capText(d.message) } : {}),
    ...(d.reason ? { reason: capText(d.reason, 200) } : {}),
    affected: d.affected.slice(0, MAX_LISTED).map((a) => ({ env: a.env, workloads: a.workloads.slice(0, MAX_LISTED) })),
  };
}

export function isNodeDiagnosis(d: { kind: string } | undefined): d is NodeDiagnosis {
  return d?.kind === 'NodeNotReady' || d?.kind === 'NodePressure';
}
