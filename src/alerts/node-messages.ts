/** What on-call sees of node health and evictions: pure renderers, used by messages.ts. */
import { formatDuration } from '../config/duration.js';
import { context, escapeMrkdwn, fields, section, type Block, type SlackMessage } from '../slack/blocks.js';
import { slackDate } from '../slack/code-sections.js';
import type { EvictedDiagnosis, NodeDiagnosis, WorkloadsOnNode } from './node-health.js';

const when = (ms: number) => (Number.isFinite(ms) ? slackDate(ms) : 'unknown time');
const code = (s: string) => `\`${escapeMrkdwn(s)}\``;

/** "`beta`: deployment web (2 pods), …" per environment. */
export function affectedLines(affected: readonly WorkloadsOnNode[]): string[] {
  return affected.map(
    (a) =>
      `${code(a.env)}: ${a.workloads
        .map((w) => `${w.kind.toLowerCase()} ${escapeMrkdwn(w.name)} (${w.pods} pod${w.pods === 1 ? '' : 's'})`)
        .join(', ')}`,
  );
}

/** The condition as a label: MemoryPressure, or NodeNotReady (Unknown). */
export function nodeConditionLabel(d: NodeDiagnosis): string {
  return d.kind === 'NodePressure' ? d.condition : `NodeNotReady${d.status === 'Unknown' ? ' (Unknown)' : ''}`;
}

export function nodeDiagnosisBlocks(d: NodeDiagnosis): Block[] {
  const affected = affectedLines(d.affected);
  return [
    fields([
      `*Node*\n${code(d.node)}`,
      `*Condition*\n${code(d.condition)} is ${code(d.status)}${d.reason ? ` (${escapeMrkdwn(d.reason)})` : ''}`,
      `*Since*\n${when(d.at)}`,
    ]),
    section(`*Kubelet says:* ${d.message ? escapeMrkdwn(d.message) : '_no message_'}`),
    section(
      affected.length
        ? `*Workloads with pods on the node:*\n${affected.map((l) => `• ${l}`).join('\n')}`
        : '*Workloads with pods on the node:* none in the watched environments',
    ),
    context(`:bulb: ${escapeMrkdwn(d.suggestion)}`),
  ];
}

export function evictedBlocks(d: EvictedDiagnosis): Block[] {
  return [
    fields([
      `*Pod*\n${code(d.pod)}`,
      `*Node*\n${d.node ? code(d.node) : '—'}`,
      `*Reason*\n${d.resource ? `low on ${escapeMrkdwn(d.resource)}` : 'Evicted'}`,
      `*Evicted*\n${when(d.at)}`,
    ]),
    section(`*Kubelet says:* ${d.message ? escapeMrkdwn(d.message) : '_no message_'}`),
    context(`:bulb: ${escapeMrkdwn(d.suggestion)}`),
  ];
}

/** The thread's last word on a node incident: the condition cleared. */
export function nodeRecoveredReply(
  d: NodeDiagnosis,
  v: { count: number; firstAt: number; lastAt: number },
  healthyForMs: number,
): SlackMessage {
  const cleared = d.kind === 'NodeNotReady' ? 'is Ready again' : `is no longer under ${escapeMrkdwn(d.condition)}`;
  const text = `:white_check_mark: Recovered: node ${code(d.node)} ${cleared} (for ${formatDuration(healthyForMs)}). ${v.count} occurrence${v.count === 1 ? '' : 's'} between ${when(v.firstAt)} and ${when(v.lastAt)}.`;
  return { text, blocks: [section(text)] };
}
