/**
 * The diagnosis an on-call engineer would do first, as data: pure functions of
 * the pod, the finding and what was read for it (log lines, nodes, pods). The
 * result is stored with the incident and rendered by messages.ts.
 */
import type { V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import {
  clusterCapacity,
  cpuMillis,
  formatCpu,
  formatMemory,
  memoryBytes,
  nodeWithMostRoom,
  podRequests,
  type NodeCapacity,
  type Requests,
} from '../kube/capacity.js';
import type { Finding } from './detect.js';
import { capNodeDiagnosis, isNodeDiagnosis, type EvictedDiagnosis, type NodeDiagnosis } from './node-health.js';
import { roomiestFor, scarceResources, type ScarceResource } from './fix-math.js';

interface Common {
  pod: string;
  namespace: string;
  node?: string;
  /** When it happened (ms since the epoch); NaN when the API did not say. */
  at: number;
  /** The next step, in one or two sentences. */
  suggestion: string;
}

export interface OomDiagnosis extends Common {
  kind: 'OOMKilled';
  container: string;
  limit?: string;
  request?: string;
  restarts: number;
  exitCode?: number;
  /** Last lines of the killed container's log (undefined: could not be read). */
  logTail?: string[];
}

export interface CrashDiagnosis extends Common {
  kind: 'CrashLoopBackOff';
  container: string;
  exitCode?: number;
  reason?: string;
  restarts: number;
  logTail?: string[];
}

export interface ImagePullDiagnosis extends Common {
  kind: 'ImagePullBackOff';
  container: string;
  image?: string;
  /** ErrImagePull or ImagePullBackOff. */
  reason?: string;
  /** The registry's error as the kubelet reported it. */
  error?: string;
}

export interface NodeRoom {
  name: string;
  freeCpu: string;
  freeMemory: string;
  freePods: number;
  /** What the pod asks for beyond the node's free room, e.g. "56Gi memory". */
  lacks: string[];
}

export interface UnschedulableDiagnosis extends Common {
  kind: 'Unschedulable';
  schedulerMessage?: string;
  /** The pod's requests (containers summed, the init-container peak if higher). */
  requests: { cpu: string; memory: string };
  nodeCount: number;
  /** The ready, schedulable node with the most room, and what the pod lacks there. */
  roomiest?: NodeRoom;
  /** Nodes where the requests fit by our count. */
  fitsOn: string[];
  /** Namespaces whose pods' requests were counted; absent = every namespace. */
  countedNamespaces?: string[];
  /** Untolerated taints, when the scheduler's message names taints: "node-3: dedicated=gpu:NoSchedule". */
  taints?: string[];
  /** The pod's node selector and how many nodes match it, when the message names the selector. */
  selector?: { labels: string; matchingNodes: number };
  /**
   * When the scheduler says memory or CPU is short: the node where the pod needs the
   * smallest cut (none: no ready, schedulable node with a pod slot), its free room, and
   * each container's requests — what the alert's "lower the request" fix is worked out from.
   */
  fit?: { scarce: ScarceResource[]; node?: string; room: Requests; containers: Array<Requests & { name: string }> };
}

export type Diagnosis = OomDiagnosis | CrashDiagnosis | ImagePullDiagnosis | UnschedulableDiagnosis | EvictedDiagnosis | NodeDiagnosis;

function containerSpec(pod: V1Pod, name: string | undefined) {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

function base(pod: V1Pod, finding: Finding) {
  return {
    pod: pod.metadata?.name ?? '?',
    namespace: pod.metadata?.namespace ?? '?',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    at: finding.at,
  };
}

/** Memory rounded up to whole MiB, printed as Kubernetes does. */
function roundMemory(bytes: number): string {
  return formatMemory(Math.ceil(bytes / 2 ** 20) * 2 ** 20);
}

/**
 * What to do about an OOMKill. `fixShown`: the alert carries a fix line (fixes.ts) whose Raise button is
 * capped by the environment's bound and the largest node and goes by the observed peak; the hint then names
 * no value of its own (a "1.5×" here could be more than the button offers) and points at that line.
 */
export function oomSuggestion(
  d: Pick<OomDiagnosis, 'container' | 'limit' | 'request' | 'restarts'>,
  opts: { fixShown?: boolean } = {},
): string {
  const again = d.restarts > 1 ? ` It has restarted ${d.restarts} times.` : '';
  if (!d.limit) {
    return `\`${d.container}\` has no memory limit, so the node itself ran out of memory and the kernel killed it.${again} Set a memory request close to what it really uses (and a limit), so the scheduler places it on a node with room.`;
  }
  const limit = memoryBytes(d.limit);
  const request = d.request ? memoryBytes(d.request) : 0;
  const sparse =
    request > 0 && request * 2 < limit
      ? ` Its request (${d.request}) is far below the limit, so the node may not have that much to give: raise the request with the limit.`
      : '';
  const raise = opts.fixShown
    ? 'Raise it if this is its normal load (the fix on this alert names a value that fits the bounds and the nodes, or says why there is none)'
    : `Raise it (e.g. to ${roundMemory(limit * 1.5)}) if this is its normal load`;
  return `The limit ${d.limit} is below what \`${d.container}\` reached.${again} ${raise}, or find the leak if its memory grows over time.${sparse}`;
}

export function diagnoseOom(pod: V1Pod, finding: Finding, logTail?: string[]): OomDiagnosis {
  const spec = containerSpec(pod, finding.container);
  const limit = spec?.resources?.limits?.memory;
  const request = spec?.resources?.requests?.memory;
  const d = {
    ...base(pod, finding),
    kind: 'OOMKilled' as const,
    container: finding.container ?? '?',
    ...(limit !== undefined ? { limit: String(limit) } : {}),
    ...(request !== undefined ? { request: String(request) } : {}),
    restarts: finding.occurrence,
    ...(finding.exitCode !== undefined ? { exitCode: finding.exitCode } : {}),
    ...(logTail ? { logTail } : {}),
  };
  return { ...d, suggestion: oomSuggestion(d) };
}

export function diagnoseCrash(pod: V1Pod, finding: Finding, logTail?: string[]): CrashDiagnosis {
  const exit = finding.exitCode;
  const hint =
    exit === 137
      ? 'It was killed (SIGKILL): a failing liveness probe or the node evicting it.'
      : exit === 143
        ? 'It was stopped (SIGTERM) and did not come back: check its liveness probe.'
        : 'It exits on its own: the last log lines above usually say why (missing config, unreachable dependency).';
  return {
    ...base(pod, finding),
    kind: 'CrashLoopBackOff',
    container: finding.container ?? '?',
    ...(exit !== undefined ? { exitCode: exit } : {}),
    ...(finding.reason ? { reason: finding.reason } : {}),
    restarts: finding.restarts ?? finding.occurrence,
    ...(logTail ? { logTail } : {}),
    suggestion: `${hint} Fix the cause and deploy, or roll back to the last good version.`,
  };
}

/** `Failed to pull image "x": rpc error: …` → `rpc error: …`. */
export function registryError(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const m = /^Failed to pull image "[^"]*": (.*)$/s.exec(message);
  return m ? m[1] : message;
}

export function diagnoseImagePull(pod: V1Pod, finding: Finding, pullEventMessage?: string): ImagePullDiagnosis {
  const fromStatus = finding.reason === 'ErrImagePull' ? finding.message : undefined;
  const error = registryError(fromStatus ?? pullEventMessage ?? finding.message);
  const notFound = error ? /not found|manifest unknown|does not exist/i.test(error) : false;
  const denied = error ? /unauthorized|denied|forbidden|authentication/i.test(error) : false;
  const suggestion = notFound
    ? 'The registry has no such image: check the tag for a typo, or that the build pushed it.'
    : denied
      ? 'The registry refused the pull: check the image pull secret and that the cluster may pull from this registry.'
      : 'Check the image name and tag, that the registry is reachable from the nodes, and the pull secret.';
  return {
    ...base(pod, finding),
    kind: 'ImagePullBackOff',
    container: finding.container ?? '?',
    ...(finding.image ? { image: finding.image } : {}),
    ...(finding.reason ? { reason: finding.reason } : {}),
    ...(error ? { error } : {}),
    suggestion,
  };
}

function tolerates(tolerations: readonly V1Toleration[] | undefined, taint: V1Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function describeTaint(t: V1Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

function lacks(requests: Requests, node: NodeCapacity): string[] {
  const out: string[] = [];
  if (requests.cpuMillis > node.free.cpuMillis) out.push(`${formatCpu(requests.cpuMillis - node.free.cpuMillis)} CPU`);
  if (requests.memoryBytes > node.free.memoryBytes) out.push(`${formatMemory(requests.memoryBytes - node.free.memoryBytes)} memory`);
  if (node.free.pods < 1) out.push('a pod slot');
  return out;
}

export interface UnschedulableInput {
  /** The scheduler's message (FailedScheduling event, else the PodScheduled condition). */
  schedulerMessage?: string;
  nodes: readonly V1Node[];
  /** Pods whose requests hold node capacity. */
  pods: readonly V1Pod[];
  /** The namespaces `pods` come from, when not every namespace (the bot may not list pods cluster-wide). */
  countedNamespaces?: readonly string[];
}

export function diagnoseUnschedulable(pod: V1Pod, finding: Finding, input: UnschedulableInput): UnschedulableDiagnosis {
  const message = input.schedulerMessage ?? finding.message;
  const requests = podRequests(pod);
  const capacities = clusterCapacity(input.nodes, input.pods);
  const room = nodeWithMostRoom(capacities);
  const roomiest: NodeRoom | undefined = room && {
    name: room.name,
    freeCpu: formatCpu(room.free.cpuMillis),
    freeMemory: formatMemory(room.free.memoryBytes),
    freePods: room.free.pods,
    lacks: lacks(requests, room),
  };
  const usable = capacities.filter((n) => n.ready && !n.unschedulable);
  const fitsOn = usable.filter((n) => lacks(requests, n).length === 0).map((n) => n.name);

  let taints: string[] | undefined;
  if (message && /taint/i.test(message)) {
    taints = input.nodes.flatMap((n) =>
      (n.spec?.taints ?? [])
        .filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t))
        .map((t) => `${n.metadata?.name ?? '?'}: ${describeTaint(t)}`),
    );
  }
  let selector: UnschedulableDiagnosis['selector'];
  const wanted = Object.entries(pod.spec?.nodeSelector ?? {});
  if (message && /affinity|selector/i.test(message) && wanted.length > 0) {
    const matching = input.nodes.filter((n) => wanted.every(([k, v]) => n.metadata?.labels?.[k] === v)).length;
    selector = { labels: wanted.map(([k, v]) => `${k}=${v}`).join(','), matchingNodes: matching };
  }

  const scarce = scarceResources(message);
  const fitNode = scarce.length > 0 ? roomiestFor(capacities, requests, scarce) : undefined;
  const fit: UnschedulableDiagnosis['fit'] =
    scarce.length > 0
      ? {
          scarce,
          ...(fitNode ? { node: fitNode.name } : {}),
          room: { cpuMillis: fitNode?.free.cpuMillis ?? 0, memoryBytes: fitNode?.free.memoryBytes ?? 0 },
          containers: (pod.spec?.containers ?? []).map((c) => ({
            name: c.name,
            cpuMillis: cpuMillis(c.resources?.requests?.cpu),
            memoryBytes: memoryBytes(c.resources?.requests?.memory),
          })),
        }
      : undefined;
  const d: Omit<UnschedulableDiagnosis, 'suggestion'> = {
    ...base(pod, finding),
    kind: 'Unschedulable',
    ...(message ? { schedulerMessage: message } : {}),
    requests: { cpu: formatCpu(requests.cpuMillis), memory: formatMemory(requests.memoryBytes) },
    nodeCount: input.nodes.length,
    ...(roomiest ? { roomiest } : {}),
    fitsOn,
    ...(input.countedNamespaces ? { countedNamespaces: [...input.countedNamespaces] } : {}),
    ...(taints ? { taints } : {}),
    ...(selector ? { selector } : {}),
    ...(fit ? { fit } : {}),
  };
  return { ...d, suggestion: unschedulableSuggestion(d, requests, capacities) };
}

function unschedulableSuggestion(
  d: Omit<UnschedulableDiagnosis, 'suggestion'>,
  requests: Requests,
  capacities: readonly NodeCapacity[],
): string {
  const message = d.schedulerMessage ?? '';
  const parts: string[] = [];
  if (d.selector && d.selector.matchingNodes === 0) {
    parts.push(
      `No node has the labels \`${d.selector.labels}\` the pod selects: fix its nodeSelector, or label a node that should run it.`,
    );
  }
  if (d.taints && d.taints.length > 0) {
    parts.push(
      `Nodes are tainted (${d.taints.slice(0, 3).join('; ')}): add a toleration if the pod belongs there, or free capacity on the untainted nodes.`,
    );
  }
  if (/unbound .*PersistentVolumeClaims/i.test(message)) {
    parts.push('A PersistentVolumeClaim is not bound: check the claim, its storage class and the provisioner.');
  }
  const resources = [...message.matchAll(/Insufficient ([\w./-]+)/g)].map((m) => m[1]!);
  if (resources.length > 0 || /Too many pods/.test(message)) {
    const largest = capacities.reduce((max, n) => Math.max(max, n.allocatable.memoryBytes), 0);
    const largestCpu = capacities.reduce((max, n) => Math.max(max, n.allocatable.cpuMillis), 0);
    if (requests.memoryBytes > largest || requests.cpuMillis > largestCpu) {
      parts.push(
        `No node is big enough even when empty (largest: ${formatCpu(largestCpu)} CPU, ${formatMemory(largest)} memory allocatable) for its requests (${d.requests.cpu} CPU, ${d.requests.memory} memory): lower the requests, or add a bigger node.`,
      );
    } else if (d.roomiest && d.roomiest.lacks.length > 0) {
      parts.push(
        `Lower its requests (${d.requests.cpu} CPU, ${d.requests.memory} memory), add a node, or free capacity: the node with the most room, ${d.roomiest.name}, lacks ${d.roomiest.lacks.join(' and ')}.`,
      );
    } else {
      parts.push(
        `Add a node or free capacity: the pod asks ${d.requests.cpu} CPU and ${d.requests.memory} memory${resources.length ? ` and the scheduler finds too little ${resources.join(', ')}` : ''}.`,
      );
    }
    if (d.fitsOn.length > 0 && d.countedNamespaces) {
      parts.push(
        `By the requests of the pods in ${d.countedNamespaces.join(', ')} it would fit on ${d.fitsOn.slice(0, 3).join(', ')}: pods in other namespaces hold that room.`,
      );
    } else if (d.fitsOn.length > 0) {
      parts.push(
        `By the requests it would fit on ${d.fitsOn.slice(0, 3).join(', ')} now: capacity was freed since the scheduler tried, and it will retry.`,
      );
    }
  }
  if (parts.length === 0) parts.push("Read the scheduler's message above; lower the requests, add a node, or free capacity.");
  return parts.join(' ');
}

/** Characters kept of the log tail stored with one occurrence (the newest lines win), and of any one message. */
export const MAX_STORED_LOG_CHARS = 2_000;
export const MAX_STORED_TEXT = 1_000;

const cap = (s: string | undefined, max = MAX_STORED_TEXT): string | undefined =>
  s === undefined || s.length <= max ? s : `${s.slice(0, max)}… [cut]`;

/**
 * The diagnosis within a fixed size: it is stored with every occurrence (a
 * storm keeps hundreds) and rendered into Slack blocks with size limits. The
 * log tail keeps its newest lines up to MAX_STORED_LOG_CHARS; texts from the
 * cluster are cut at MAX_STORED_TEXT.
 */
export function capDiagnosis(d: Diagnosis): Diagnosis {
  const logTail = (lines: string[] | undefined): { logTail?: string[] } => {
    if (!lines) return {};
    const kept: string[] = [];
    let size = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = cap(lines[i] ?? '') ?? '';
      if (size + line.length + 1 > MAX_STORED_LOG_CHARS && kept.length > 0) break;
      kept.unshift(line);
      size += line.length + 1;
    }
    return { logTail: kept };
  };
  if (isNodeDiagnosis(d)) return capNodeDiagnosis(d);
  const suggestion = cap(d.suggestion) ?? '';
  switch (d.kind) {
    case 'Evicted':
      return { ...d, suggestion };
    case 'OOMKilled':
    case 'CrashLoopBackOff':
      return { ...d, suggestion, ...logTail(d.logTail) };
    case 'ImagePullBackOff':
      return { ...d, suggestion, ...(d.image ? { image: cap(d.image, 500) } : {}), ...(d.error ? { error: cap(d.error) } : {}) };
    case 'Unschedulable':
      return { ...d, suggestion, ...(d.schedulerMessage ? { schedulerMessage: cap(d.schedulerMessage) } : {}) };
  }
}
