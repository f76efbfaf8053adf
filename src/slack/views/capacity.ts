/** `pods` and `nodes` answers: which pods run where, and how full each node is. Pure renderers. */
import type { V1Pod } from '@kubernetes/client-node';
import {
  formatCpu,
  formatMemory,
  podRequests,
  type NodeCapacity,
  type Requests,
  addRequests,
  ZERO_REQUESTS,
  percentOf,
} from '../../kube/capacity.js';
import { context, escapeMrkdwn, header, section, type Block, type SlackMessage } from '../blocks.js';
import { codeSections, slackDate } from '../code-sections.js';
import { age, podPhase, podRestarts, table } from './status.js';

/** Blocks per message: Slack allows 50; leave room for header, notes and context. */
const MAX_BLOCKS = 44;
const NOT_SCHEDULED = '(not scheduled)';
/** Slack's limit for a section's text. */
const SECTION_CHARS = 3_000;

const reqCell = (r: Requests) => `${formatCpu(r.cpuMillis)} / ${formatMemory(r.memoryBytes)}`;

/** `used/total (p%)` the way kubectl describe node prints allocated resources. */
function share(used: string, total: string, percent: number): string {
  return `${used}/${total} (${percent}%)`;
}

export interface PodsViewInput {
  env: string;
  namespace: string;
  app?: string;
  pods: readonly V1Pod[];
  /** Node figures, when the nodes could be read. */
  nodes?: ReadonlyMap<string, NodeCapacity>;
  now?: number;
}

/** Pods grouped by node, with phase, restarts and requests; per node, what these pods take of it. */
export function podsView(input: PodsViewInput): SlackMessage {
  const { env, namespace, app, pods } = input;
  const now = input.now ?? Date.now();
  const what = app ? `${app} in ${env}` : env;
  if (pods.length === 0) {
    const text = app
      ? `No pods of ${app} in ${env} (namespace ${namespace}) — has it been deployed?`
      : `No pods in ${env} (namespace ${namespace}).`;
    return { text, blocks: [section(text)] };
  }
  const groups = new Map<string, V1Pod[]>();
  for (const pod of [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    const node = pod.spec?.nodeName ?? NOT_SCHEDULED;
    groups.set(node, [...(groups.get(node) ?? []), pod]);
  }
  const order = [...groups.keys()].sort((a, b) => (a === NOT_SCHEDULED ? 1 : b === NOT_SCHEDULED ? -1 : a.localeCompare(b)));
  const blocks: Block[] = [header(`Pods · ${what}`)];
  let shownPods = 0;
  for (const node of order) {
    const group = groups.get(node)!;
    const total = group.reduce((sum, p) => addRequests(sum, podRequests(p)), ZERO_REQUESTS);
    const cap = input.nodes?.get(node);
    const ofNode = cap
      ? ` — ${percentOf(total.cpuMillis, cap.allocatable.cpuMillis)}% of its cpu, ${percentOf(total.memoryBytes, cap.allocatable.memoryBytes)}% of its memory; node at cpu ${cap.percent.cpu}%, memory ${cap.percent.memory}%${cap.ready ? '' : ', *NotReady*'}${cap.unschedulable ? ', cordoned' : ''}`
      : '';
    const title = `*${escapeMrkdwn(node)}* · ${group.length} pod${group.length === 1 ? '' : 's'} requesting cpu ${formatCpu(total.cpuMillis)}, memory ${formatMemory(total.memoryBytes)}${ofNode}`;
    const rows = [['POD', 'STATUS', 'RESTARTS', 'CPU / MEMORY', 'AGE']];
    for (const pod of group)
      rows.push([
        pod.metadata?.name ?? '?',
        podPhase(pod),
        String(podRestarts(pod)),
        reqCell(podRequests(pod)),
        age(pod.metadata?.creationTimestamp, now),
      ]);
    const room = MAX_BLOCKS - blocks.length - 1;
    if (room < 1) break;
    const lines = table(rows).split('\n');
    // The node's line and its table in one section when they fit: more nodes per message.
    const single = codeSections(lines, 1, SECTION_CHARS - title.length - 20);
    let shown: number;
    if (single.shown === lines.length && single.blocks.length === 1) {
      blocks.push(section(`${title}\n${(single.blocks[0]!.text as { text: string }).text}`));
      shown = lines.length;
    } else {
      if (room < 2) break;
      const split = codeSections(lines, room - 1);
      blocks.push(section(title), ...split.blocks);
      shown = split.shown;
    }
    shownPods += Math.max(0, shown - 1);
    if (shown < lines.length) break;
  }
  const omitted = pods.length - shownPods;
  const phases = countBy(pods.map(podPhase));
  const text = `${pods.length} pod${pods.length === 1 ? '' : 's'} of ${what} on ${order.filter((n) => n !== NOT_SCHEDULED).length} node(s): ${[...phases].map(([p, n]) => `${n} ${p}`).join(', ')}`;
  blocks.push(
    context(
      `${escapeMrkdwn(text)} · namespace \`${namespace}\` · requests are cpu / memory${omitted > 0 ? ` · *${omitted} more pod(s) not shown* — narrow with \`/k8s pods ${env} &lt;app&gt;\`` : ''} · \`/k8s nodes\` shows everything on each node`,
    ),
  );
  return { text, blocks };
}

function countBy(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

const ZONE = 'topology.kubernetes.io/zone';
const INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
const ROLE_PREFIX = 'node-role.kubernetes.io/';
/** Labels every node has, or that Kubernetes and cloud providers set: not what makes a node special. */
const COMMON_LABEL = /(^|\.)(kubernetes\.io|k8s\.io)\//;

/** The labels that tell nodes apart: zone, instance type, roles, then the cluster's own labels. */
export function keyLabels(labels: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  if (labels[ZONE]) out.push(labels[ZONE]);
  if (labels[INSTANCE_TYPE]) out.push(labels[INSTANCE_TYPE]);
  const roles = Object.keys(labels)
    .filter((k) => k.startsWith(ROLE_PREFIX))
    .map((k) => k.slice(ROLE_PREFIX.length))
    .filter(Boolean);
  if (roles.length) out.push(`role=${roles.sort().join('+')}`);
  for (const key of Object.keys(labels).sort()) {
    if (!COMMON_LABEL.test(key)) out.push(`${key}=${labels[key]}`);
  }
  return out;
}

export function nodeStatus(n: NodeCapacity): string {
  return `${n.ready ? 'Ready' : 'NotReady'}${n.unschedulable ? ',SchedulingDisabled' : ''}`;
}

const healthyCondition = (type: string, status: string) => (type === 'Ready' ? status === 'True' : status === 'False');
const CONDITION_MESSAGE_CHARS = 160;
const CONDITION_NODES = 20;

/** One line per node: Ready (or not) since when, then each pressure that is on, with the kubelet's reason and message. */
export function conditionLine(n: Pick<NodeCapacity, 'name' | 'conditions'>): string {
  const conditions = n.conditions ?? [];
  const since = (ms: number) => (Number.isFinite(ms) ? ` since ${slackDate(ms)}` : '');
  const detail = (c: NonNullable<NodeCapacity['conditions']>[number]) => {
    const message = c.message
      ? `: ${escapeMrkdwn(c.message.length > CONDITION_MESSAGE_CHARS ? `${c.message.slice(0, CONDITION_MESSAGE_CHARS - 1)}…` : c.message)}`
      : '';
    return `${c.reason ? ` (${escapeMrkdwn(c.reason)})` : ''}${message}`;
  };
  const ready = conditions.find((c) => c.type === 'Ready');
  const parts = [
    ready
      ? healthyCondition('Ready', ready.status)
        ? `Ready${since(ready.since)}`
        : `:red_circle: Ready \`${escapeMrkdwn(ready.status)}\`${since(ready.since)}${detail(ready)}`
      : 'Ready not reported',
  ];
  const pressures = conditions.filter((c) => c.type !== 'Ready');
  const on = pressures.filter((c) => !healthyCondition(c.type, c.status));
  for (const c of on) parts.push(`:warning: ${c.type} \`${escapeMrkdwn(c.status)}\`${since(c.since)}${detail(c)}`);
  if (on.length === 0) parts.push(pressures.length ? 'no memory, disk or PID pressure' : 'pressures not reported');
  return `• \`${escapeMrkdwn(n.name)}\`: ${parts.join(' · ')}`;
}

/** Conditions of each node (troubled nodes first), in sections within Slack's size. */
function conditionSections(nodes: readonly NodeCapacity[]): Block[] {
  const troubled = (n: NodeCapacity) => (n.conditions ?? []).some((c) => !healthyCondition(c.type, c.status));
  const ordered = [...nodes.filter(troubled), ...nodes.filter((n) => !troubled(n))];
  const lines = ordered.slice(0, CONDITION_NODES).map(conditionLine);
  if (ordered.length > CONDITION_NODES) lines.push(`… and ${ordered.length - CONDITION_NODES} more`);
  const out: Block[] = [];
  let current = '*Conditions*';
  for (const line of lines) {
    if (current.length + line.length + 1 > SECTION_CHARS - 100) {
      out.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) out.push(section(current));
  return out.slice(0, 2);
}

export interface ClusterNodes {
  /** Shown only when several clusters are listed. */
  cluster: string;
  nodes: NodeCapacity[];
  /** Why this cluster could not be read (the others are still shown). */
  error?: string;
}

const LABELS_WIDTH = 70;

/** One row per node: status, requested vs allocatable cpu and memory (%), pods, key labels; taints after. */
export function nodesView(clusters: readonly ClusterNodes[], selector?: string): SlackMessage {
  const blocks: Block[] = [header(`Nodes${selector ? ` · ${selector}` : ''}`)];
  const many = clusters.length > 1;
  const summaries: string[] = [];
  let omitted = 0;
  for (const c of clusters) {
    if (many) blocks.push(section(`*Cluster ${escapeMrkdwn(c.cluster)}*`));
    if (c.error) {
      blocks.push(section(`:warning: ${escapeMrkdwn(c.error)}`));
      summaries.push(`${c.cluster}: unavailable`);
      continue;
    }
    if (c.nodes.length === 0) {
      blocks.push(section(selector ? `No node matches \`${escapeMrkdwn(selector)}\`.` : 'No nodes.'));
      continue;
    }
    const rows = [['NODE', 'STATUS', 'CPU REQ/ALLOC', 'MEMORY REQ/ALLOC', 'PODS', 'LABELS']];
    for (const n of c.nodes) {
      const labels = keyLabels(n.labels).join(' ');
      rows.push([
        n.name,
        nodeStatus(n),
        share(formatCpu(n.requested.cpuMillis), formatCpu(n.allocatable.cpuMillis), n.percent.cpu),
        share(formatMemory(n.requested.memoryBytes), formatMemory(n.allocatable.memoryBytes), n.percent.memory),
        `${n.podCount}/${n.allocatable.pods}`,
        labels.length > LABELS_WIDTH ? `${labels.slice(0, LABELS_WIDTH - 1)}…` : labels,
      ]);
    }
    const lines = table(rows).split('\n');
    const { blocks: code, shown } = codeSections(lines, Math.max(1, MAX_BLOCKS - blocks.length - 5));
    blocks.push(...code);
    omitted += lines.length - shown;
    blocks.push(...conditionSections(c.nodes));
    const tainted = c.nodes.filter((n) => n.taints.length > 0);
    if (tainted.length) {
      const taintLines = tainted
        .slice(0, 20)
        .map(
          (n) =>
            `• \`${escapeMrkdwn(n.name)}\`: ${n.taints.map((t) => `\`${escapeMrkdwn(`${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`)}\``).join(', ')}`,
        );
      blocks.push(
        section(
          `*Taints* (pods without a matching toleration stay off these nodes)\n${taintLines.join('\n')}${tainted.length > 20 ? `\n… and ${tainted.length - 20} more` : ''}`,
        ),
      );
    }
    const fullest = [...c.nodes].sort((a, b) => Math.max(b.percent.cpu, b.percent.memory) - Math.max(a.percent.cpu, a.percent.memory))[0]!;
    summaries.push(
      `${many ? `${c.cluster}: ` : ''}${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}, most requested ${fullest.name} (cpu ${fullest.percent.cpu}%, memory ${fullest.percent.memory}%)`,
    );
  }
  const text = summaries.join('; ') || 'No nodes.';
  blocks.push(
    context(
      `${escapeMrkdwn(text)} · requests count every pod that is not finished, in every namespace${omitted > 0 ? ` · *${omitted} node(s) not shown* — narrow with a label selector, e.g. \`/k8s nodes topology.kubernetes.io/zone=zone-a\`` : ''}`,
    ),
  );
  return { text, blocks };
}
