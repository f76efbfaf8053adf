import type { Revision } from '../../kube/history.js';
import { context, escapeMrkdwn, header, mention, section, type SlackMessage } from '../blocks.js';
import { slackDate, textSections } from '../code-sections.js';
import { age } from './status.js';

const MAX_REVISIONS = 20;

function who(rev: Revision): string {
  const by = rev.by;
  if (!by) return '_who: unknown (not in our records)_';
  const person = by.userId ? mention(by.userId) : by.userName ? escapeMrkdwn(by.userName) : 'someone';
  const channel = by.channelId ? ` in <#${by.channelId}>` : '';
  const how =
    by.source === 'audit'
      ? `${by.verb ?? 'change'} by ${person}${channel}`
      : `deployed by ${person}${channel} (per the Deployment's annotations)`;
  return how;
}

/** Revisions newest first: number, current marker, image, when, who and from which channel. */
export function historyView(input: {
  app: string;
  env: string;
  namespace: string;
  /** The workload's kind (default Deployment): its revisions are ReplicaSets, or ControllerRevisions. */
  kind?: string;
  revisions: readonly Revision[];
  now?: number;
}): SlackMessage {
  const { app, env, namespace, revisions } = input;
  const kind = input.kind ?? 'Deployment';
  const now = input.now ?? Date.now();
  if (revisions.length === 0) {
    const text = `${app} in ${env} has no revisions yet (no ${kind === 'Deployment' ? 'ReplicaSets' : 'ControllerRevisions'} owned by the ${kind.toLowerCase()}).`;
    return { text, blocks: [section(text)] };
  }
  const lines = revisions.slice(0, MAX_REVISIONS).map((rev) => {
    const images = rev.images.map((i) => `\`${escapeMrkdwn(i)}\``).join(', ') || '`?`';
    const when = rev.createdAt ? `${slackDate(rev.createdAt)} (${age(rev.createdAt, now)} ago)` : 'time unknown';
    const marker = rev.current ? ' :arrow_left: *current*' : '';
    const pods = rev.current || rev.desired > 0 ? ` · ${rev.ready}/${rev.desired} ready` : '';
    const former = rev.formerRevisions.length ? ` · was revision ${rev.formerRevisions.join(', ')}` : '';
    return `*${rev.revision}*${marker} · ${images} · ${when} · ${who(rev)}${pods}${former}`;
  });
  const current = revisions.find((r) => r.current);
  const text = `${app} in ${env}: ${revisions.length} revision${revisions.length === 1 ? '' : 's'}, current ${current?.revision ?? '?'} (${current?.images.join(', ') ?? '?'})`;
  const rollbackTo = revisions.find((r) => !r.current)?.revision;
  return {
    text,
    blocks: [
      header(`History · ${app} · ${env}`),
      ...textSections(lines),
      context(
        `namespace \`${namespace}\`${revisions.length > MAX_REVISIONS ? ` · ${revisions.length - MAX_REVISIONS} older revision(s) not shown` : ''}${rollbackTo !== undefined ? ` · go back with \`/k8s rollback ${app} ${env} ${rollbackTo}\`` : ''}`,
      ),
    ],
  };
}
