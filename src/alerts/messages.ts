/**
 * What on-call sees: the incident's top-level message, its thread replies and
 * the Show-logs answer. Pure renderers (Block Kit as data), tested as such.
 */
import { formatDuration } from '../config/duration.js';
import type { AlertKind } from '../config/schema.js';
import {
  actions,
  codeBlock,
  context,
  escapeMrkdwn,
  truncate,
  fields,
  header,
  mention,
  section,
  type Block,
  type ButtonSpec,
  type SlackMessage,
} from '../slack/blocks.js';
import { slackDate } from '../slack/code-sections.js';
import { RUN_INTENT_ACTION } from '../command/intents.js';
import type { WorkloadRef } from './detect.js';
import { oomSuggestion, type Diagnosis } from './diagnose.js';
import { isNodeDiagnosis } from './node-health.js';
import { evictedBlocks, nodeConditionLabel, nodeDiagnosisBlocks, nodeRecoveredReply } from './node-messages.js';

export const SHOW_LOGS_ACTION = 'chatops_alert_logs';
export const SILENCE_ACTION = 'chatops_alert_silence';
/** Silence durations offered by the buttons. */
export const SILENCE_CHOICES = { '1h': 3_600_000, '24h': 86_400_000 } as const;
export type SilenceChoice = keyof typeof SILENCE_CHOICES;

/** One time a problem was seen: a pod (and container) and its diagnosis. */
export interface Occurrence {
  pod: string;
  container?: string;
  node?: string;
  /** When it happened per the API (ms), else when it was detected. */
  at: number;
  diagnosis: Diagnosis;
}

/** Everything the top-level message shows. */
export interface IncidentView {
  id: string;
  kind: AlertKind;
  env: string;
  namespace: string;
  cluster: string;
  workload: WorkloadRef;
  count: number;
  firstAt: number;
  lastAt: number;
  /** The first occurrence: its diagnosis is the message's body. */
  head: Occurrence;
  /** The latest occurrence, when it differs from the first. */
  last?: Occurrence;
  status: 'open' | 'recovered';
  recoveredAt?: number;
  silence?: { until: number; by: string };
  /** Intent id of the Restart button (Deployments only). */
  restartIntent?: string;
  /** The fix offered (fixes.ts): a line, and a button running `resources` as the clicker when there is one. */
  fix?: { note: string; button?: { text: string; intent: string } };
}

const ICON: Record<AlertKind, string> = {
  OOMKilled: ':boom:',
  Unschedulable: ':hourglass:',
  CrashLoopBackOff: ':repeat:',
  ImagePullBackOff: ':package:',
  Evicted: ':outbox_tray:',
  NodeNotReady: ':rotating_light:',
  NodePressure: ':warning:',
};

/** A time Slack shows in the reader's time zone (UTC where it cannot); the API may not have said when. */
export function slackTime(ms: number): string {
  return Number.isFinite(ms) ? slackDate(ms) : 'unknown time';
}

export function workloadLabel(w: WorkloadRef): string {
  return `${w.kind.toLowerCase()} ${escapeMrkdwn(w.name)}`;
}

function kindLabel(kind: AlertKind, d?: Diagnosis): string {
  if (kind === 'ImagePullBackOff' && d?.kind === 'ImagePullBackOff' && d.reason) return d.reason;
  if (isNodeDiagnosis(d)) return nodeConditionLabel(d);
  return kind;
}

function logSection(title: string, lines: readonly string[] | undefined): Block[] {
  if (lines === undefined) return [context(`_${title}: the log could not be read (the container may be gone)._`)];
  if (lines.length === 0) return [context(`_${title}: the log is empty._`)];
  return [section(`*${title}:*\n${codeBlock(lines.join('\n'))}`)];
}

/**
 * The diagnosis blocks: the facts in fields, the evidence, the suggestion. `fixShown`: the alert offers a fix
 * (a line and maybe a button): an OOMKill's suggestion then defers to it instead of naming a raise of its own.
 */
export function diagnosisBlocks(d: Diagnosis, opts: { fixShown?: boolean } = {}): Block[] {
  if (isNodeDiagnosis(d)) return nodeDiagnosisBlocks(d);
  if (d.kind === 'Evicted') return evictedBlocks(d);
  const where = [`*Pod*\n\`${escapeMrkdwn(d.pod)}\``, `*Node*\n${d.node ? `\`${escapeMrkdwn(d.node)}\`` : '—'}`];
  switch (d.kind) {
    case 'OOMKilled':
      return [
        fields([
          ...where,
          `*Container*\n\`${escapeMrkdwn(d.container)}\``,
          `*Memory limit / request*\n${d.limit ?? 'none'} / ${d.request ?? 'none'}`,
          `*Restarts*\n${d.restarts}`,
          `*Killed*\n${slackTime(d.at)}${d.exitCode !== undefined ? ` (exit ${d.exitCode})` : ''}`,
        ]),
        ...logSection(`Last ${d.logTail?.length ?? 20} log lines before the kill`, d.logTail),
        context(`:bulb: ${escapeMrkdwn(opts.fixShown ? oomSuggestion(d, { fixShown: true }) : d.suggestion)}`),
      ];
    case 'CrashLoopBackOff':
      return [
        fields([
          ...where,
          `*Container*\n\`${escapeMrkdwn(d.container)}\``,
          `*Last exit*\n${d.exitCode ?? '?'}${d.reason ? ` (${escapeMrkdwn(d.reason)})` : ''}`,
          `*Restarts*\n${d.restarts}`,
          `*Exited*\n${slackTime(d.at)}`,
        ]),
        ...logSection('Last log lines of the previous instance', d.logTail),
        context(`:bulb: ${escapeMrkdwn(d.suggestion)}`),
      ];
    case 'ImagePullBackOff':
      return [
        fields([...where, `*Container*\n\`${escapeMrkdwn(d.container)}\``, `*Image*\n\`${escapeMrkdwn(d.image ?? '?')}\``]),
        section(`*Registry says:* ${d.error ? escapeMrkdwn(d.error) : '_no error message yet_'}`),
        context(`:bulb: ${escapeMrkdwn(d.suggestion)}`),
      ];
    case 'Unschedulable': {
      const lines = [`*Scheduler says:* ${d.schedulerMessage ? escapeMrkdwn(d.schedulerMessage) : '_no message_'}`];
      lines.push(`*Pod requests:* ${d.requests.cpu} CPU, ${d.requests.memory} memory`);
      if (d.roomiest) {
        const lack = d.roomiest.lacks.length ? ` — lacks ${d.roomiest.lacks.join(' and ')}` : ' — the requests fit there by our count';
        lines.push(
          `*Most room:* \`${d.roomiest.name}\` with ${d.roomiest.freeCpu} CPU, ${d.roomiest.freeMemory} memory free of ${d.nodeCount} node${d.nodeCount === 1 ? '' : 's'}${lack}`,
        );
      } else {
        lines.push(`*Nodes:* none of ${d.nodeCount} is ready and schedulable`);
      }
      if (d.taints?.length)
        lines.push(
          `*Untolerated taints:* ${d.taints
            .slice(0, 5)
            .map((t) => `\`${escapeMrkdwn(t)}\``)
            .join(', ')}`,
        );
      if (d.selector)
        lines.push(`*Node selector:* \`${escapeMrkdwn(d.selector.labels)}\` matches ${d.selector.matchingNodes} of ${d.nodeCount} nodes`);
      return [
        section(lines.join('\n')),
        context(`:bulb: ${escapeMrkdwn(d.suggestion)}`),
        context(
          `Free room = allocatable minus the requests of non-terminated pods ${d.countedNamespaces ? `in ${d.countedNamespaces.map((n) => `\`${n}\``).join(', ')} (the bot may not list other namespaces)` : 'in every namespace'}. Pending since ${slackTime(d.at)}.`,
        ),
      ];
    }
  }
}

export function headlineText(v: IncidentView): string {
  // A node serves every environment of its cluster: the cluster names where it is.
  const where = isNodeDiagnosis(v.head.diagnosis) ? `cluster ${escapeMrkdwn(v.cluster)}` : v.env;
  const what = `${kindLabel(v.kind, v.head.diagnosis)} · ${workloadLabel(v.workload)} · ${where}`;
  if (v.status === 'recovered') return `:white_check_mark: Recovered — ${what} (${v.count} occurrence${v.count === 1 ? '' : 's'})`;
  return `${ICON[v.kind]} ${what}${v.count > 1 ? ` — ${v.count} occurrences` : ''}`;
}

function summaryLine(v: IncidentView): string {
  const times = v.count === 1 ? 'once' : `*${v.count} times*`;
  const span = v.count > 1 ? ` over ${formatDuration(Math.max(0, v.lastAt - v.firstAt))}` : '';
  const last =
    v.last && isNodeDiagnosis(v.last.diagnosis)
      ? `, last since ${slackTime(v.last.at)}`
      : v.last
        ? `, last on pod \`${escapeMrkdwn(v.last.pod)}\` at ${slackTime(v.last.at)}`
        : '';
  return `${ICON[v.kind]} *${kindLabel(v.kind, v.head.diagnosis)}* ${isNodeDiagnosis(v.head.diagnosis) ? 'on' : 'in'} ${workloadLabel(v.workload)} (\`${v.env}\`): seen ${times}${span}${last}.${v.count > 1 ? ' Each one is in the thread.' : ''}`;
}

export function alertButtons(v: IncidentView): ButtonSpec[] {
  // Unschedulable pods and images never pulled have no log to show.
  const hasLogs = v.kind === 'OOMKilled' || v.kind === 'CrashLoopBackOff';
  const buttons: ButtonSpec[] = hasLogs ? [{ text: 'Show logs', actionId: SHOW_LOGS_ACTION, value: v.id }] : [];
  if (v.status === 'recovered') return buttons;
  if (v.restartIntent) buttons.push({ text: 'Restart', actionId: RUN_INTENT_ACTION, value: v.restartIntent, style: 'danger' });
  // Its own action_id (Slack refuses two alike in one block); the intent handler takes the whole family.
  if (v.fix?.button)
    buttons.push({ text: v.fix.button.text, actionId: `${RUN_INTENT_ACTION}:fix`, value: v.fix.button.intent, style: 'primary' });
  for (const choice of Object.keys(SILENCE_CHOICES) as SilenceChoice[]) {
    // Slack refuses a block whose buttons share an action_id: each choice has its own, routed by prefix.
    buttons.push({ text: `Silence ${choice}`, actionId: `${SILENCE_ACTION}:${choice}`, value: `${v.id}|${choice}` });
  }
  return buttons;
}

/** The fix line (and its button) is on the message while the incident is open. */
const fixShown = (v: Pick<IncidentView, 'fix' | 'status'>): boolean => Boolean(v.fix) && v.status === 'open';

/** The incident's top-level message. */
export function headlineMessage(v: IncidentView, now: number): SlackMessage {
  const status: string[] = [
    // A node has no namespace.
    ...(v.namespace ? [`namespace \`${escapeMrkdwn(v.namespace)}\``] : []),
    `cluster \`${escapeMrkdwn(v.cluster)}\``,
    `first seen ${slackTime(v.firstAt)}`,
  ];
  if (v.status === 'recovered' && v.recoveredAt) status.push(`:white_check_mark: recovered ${slackTime(v.recoveredAt)}`);
  else if (v.silence && v.silence.until > now)
    status.push(`:no_bell: silenced until ${slackTime(v.silence.until)} by ${mention(v.silence.by)}`);
  const buttons = alertButtons(v);
  return {
    text: headlineText(v),
    blocks: [
      header(headlineText(v).replace(/^:[a-z_]+: /, '')),
      section(summaryLine(v)),
      ...diagnosisBlocks(v.head.diagnosis, { fixShown: fixShown(v) }),
      ...(fixShown(v) ? [context(`:wrench: ${v.fix?.note ?? ''}`)] : []),
      context(status.join(' · ')),
      ...(buttons.length ? [actions(`alert-${v.id}`, buttons)] : []),
    ],
  };
}

function occurrenceLine(o: Occurrence): string {
  const d = o.diagnosis;
  const container = o.container ? ` / \`${escapeMrkdwn(o.container)}\`` : '';
  const node = o.node ? ` on \`${escapeMrkdwn(o.node)}\`` : '';
  const extra =
    d.kind === 'OOMKilled'
      ? ` — restart ${d.restarts}`
      : d.kind === 'CrashLoopBackOff'
        ? ` — exit ${d.exitCode ?? '?'}, restart ${d.restarts}`
        : d.kind === 'ImagePullBackOff'
          ? ` — \`${escapeMrkdwn(d.image ?? '?')}\``
          : '';
  return `• \`${escapeMrkdwn(o.pod)}\`${container}${node}${extra}, ${slackTime(o.at)}`;
}

/** At most this many occurrences are listed in one thread reply; the rest are counted. */
export const LISTED_PER_REPLY = 10;

/**
 * New occurrences for the thread: one is shown in full; many (a storm) are
 * summarised in one reply — listed up to LISTED_PER_REPLY, the rest counted.
 */
export function occurrencesReply(
  v: Pick<IncidentView, 'kind' | 'count'> & Partial<Pick<IncidentView, 'fix' | 'status'>>,
  occurrences: readonly Occurrence[],
  hidden = 0,
): SlackMessage {
  const total = occurrences.length + hidden;
  if (total === 1 && occurrences[0]) {
    const o = occurrences[0];
    const where = isNodeDiagnosis(o.diagnosis) ? 'on node' : 'in pod';
    const text = `${ICON[v.kind]} Again: ${kindLabel(v.kind, o.diagnosis)} ${where} \`${escapeMrkdwn(o.pod)}\` — ${v.count} in total.`;
    // Escaping can grow cluster text several times over: the fallback text is capped like the section.
    return {
      text: truncate(text, FALLBACK_TEXT_LIMIT),
      blocks: [section(text), ...diagnosisBlocks(o.diagnosis, { fixShown: Boolean(v.fix) && v.status !== 'recovered' })],
    };
  }
  const shown = occurrences.slice(-LISTED_PER_REPLY);
  const more = total - shown.length;
  const text = `${ICON[v.kind]} ${total} more occurrences (${v.count} in total):`;
  const lines = [text, ...shown.map(occurrenceLine), ...(more > 0 ? [`…and ${more} more`] : [])];
  return { text: truncate(lines.join('\n'), FALLBACK_TEXT_LIMIT), blocks: [section(lines.join('\n'))] };
}

/** A message's fallback text need not say more than its blocks; Slack refuses over 40,000 characters. */
const FALLBACK_TEXT_LIMIT = 3_000;

export function recoveredReply(
  v: Pick<IncidentView, 'workload' | 'count' | 'firstAt' | 'lastAt'> & { head?: Occurrence },
  healthyForMs: number,
): SlackMessage {
  const d = v.head?.diagnosis;
  if (isNodeDiagnosis(d)) return nodeRecoveredReply(d, v, healthyForMs);
  const text = `:white_check_mark: Recovered: every pod of ${workloadLabel(v.workload)} has been healthy for ${formatDuration(healthyForMs)}. ${v.count} occurrence${v.count === 1 ? '' : 's'} between ${slackTime(v.firstAt)} and ${slackTime(v.lastAt)}.`;
  return { text, blocks: [section(text)] };
}

export function silencedReply(choice: string, until: number, by: string, more: { id?: string; reason?: string } = {}): SlackMessage {
  const why = more.reason ? ` Reason: ${escapeMrkdwn(more.reason)}.` : '';
  const lift = more.id ? ` \`/k8s unsilence ${more.id}\` lifts it.` : '';
  const text = `:no_bell: Silenced for ${escapeMrkdwn(choice)} by ${mention(by)}, until ${slackTime(until)}.${why} Occurrences are still counted on the message above; nothing is posted until then.${lift}`;
  return { text, blocks: [section(text)] };
}

export function unsilencedReply(by: string, id: string): SlackMessage {
  const text = `:bell: ${mention(by)} lifted the silence \`${escapeMrkdwn(id)}\`: occurrences are posted here again.`;
  return { text, blocks: [section(text)] };
}

export function logsMessage(
  pod: string,
  container: string | undefined,
  lines: readonly string[] | undefined,
  previous: boolean,
): SlackMessage {
  const which = `\`${escapeMrkdwn(pod)}\`${container ? ` / \`${escapeMrkdwn(container)}\`` : ''}${previous ? ' (previous instance)' : ''}`;
  if (lines === undefined) {
    const text = `:warning: Could not read the log of ${which}: the pod may be gone. Try \`/k8s logs\`.`;
    return { text, blocks: [section(text)] };
  }
  const text = `Last ${lines.length} log lines of ${which}:`;
  return {
    text: truncate(`${text}\n${escapeMrkdwn(lines.join('\n'))}`, 3_000),
    blocks: [section(`${text}\n${lines.length ? codeBlock(lines.join('\n')) : '_empty_'}`)],
  };
}

export function reopenedReply(v: Pick<IncidentView, 'kind' | 'workload'>, at: number): SlackMessage {
  const text = `${ICON[v.kind]} Reopened: ${v.kind} again in ${workloadLabel(v.workload)} at ${slackTime(at)}, soon after it recovered. Occurrences continue below.`;
  return { text, blocks: [section(text)] };
}
