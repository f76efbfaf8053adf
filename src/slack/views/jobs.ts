import type { Verb, VerbTarget } from '../../command/types.js';
import { formatDuration } from '../../config/duration.js';
import { context, escapeMrkdwn, header, mention, section, type SlackMessage } from '../blocks.js';
import { textSections } from '../code-sections.js';

export type WorkState = 'running' | 'resuming' | 'queued' | 'waiting for lock' | 'retrying' | 'delayed' | 'waiting for approval';

/** One piece of work as `jobs` shows it. */
export interface WorkItem {
  /** Job id (`cmd-…`) or approval request id (`apr-…`): what `cancel` takes. */
  id: string;
  /** e.g. "deploy myapp 1.2.0 → beta" */
  what: string;
  state: WorkState;
  userId: string;
  channelId: string;
  queuedAt: number;
  /** When a worker took it (running jobs). */
  startedAt?: number;
  /** Attempts already made (a retrying job). */
  attemptsMade?: number;
  /** Approval requests: "0 of 1 approvals, expires in 20m". */
  detail?: string;
}

const ORDER: Record<WorkState, number> = {
  running: 0,
  resuming: 1,
  'waiting for approval': 2,
  'waiting for lock': 3,
  queued: 4,
  retrying: 5,
  delayed: 6,
};
const ICON: Record<WorkState, string> = {
  running: ':gear:',
  resuming: ':arrows_counterclockwise:',
  queued: ':inbox_tray:',
  'waiting for lock': ':hourglass:',
  retrying: ':repeat:',
  delayed: ':alarm_clock:',
  'waiting for approval': ':raised_hand:',
};
const MAX_ITEMS = 30;

const ago = (from: number, now: number) => formatDuration(Math.max(0, now - from));

/** Queued, waiting and running work; running first, then oldest first. */
export function jobsView(items: readonly WorkItem[], scope: { allChannels: boolean; channelId: string }, now = Date.now()): SlackMessage {
  const where = scope.allChannels ? 'in every channel' : `from <#${scope.channelId}>`;
  if (items.length === 0) {
    const text = `No queued, waiting or running work ${where}.`;
    return { text, blocks: [section(text)] };
  }
  const sorted = [...items].sort((a, b) => ORDER[a.state] - ORDER[b.state] || a.queuedAt - b.queuedAt);
  const lines = sorted.slice(0, MAX_ITEMS).map((item) => {
    const state =
      item.state === 'running' && item.startedAt !== undefined
        ? `running for ${ago(item.startedAt, now)}`
        : item.state === 'resuming'
          ? `started${item.startedAt !== undefined ? ` ${ago(item.startedAt, now)} ago` : ''}, cut off by a worker stopping: resumes when a worker runs`
          : item.state === 'retrying' && item.attemptsMade
            ? `retrying (${item.attemptsMade} attempt${item.attemptsMade === 1 ? '' : 's'} made)`
            : item.state;
    const from = scope.allChannels ? ` in <#${item.channelId}>` : '';
    return `${ICON[item.state]} *${escapeMrkdwn(item.what)}* — ${state} · ${mention(item.userId)}${from} · asked ${ago(item.queuedAt, now)} ago${item.detail ? ` · ${escapeMrkdwn(item.detail)}` : ''} · \`${item.id}\``;
  });
  const counts = new Map<WorkState, number>();
  for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
  const text = `${items.length} piece${items.length === 1 ? '' : 's'} of work ${where}: ${[...counts]
    .sort((a, b) => ORDER[a[0]] - ORDER[b[0]])
    .map(([s, n]) => `${n} ${s}`)
    .join(', ')}`;
  return {
    text,
    blocks: [
      header('Jobs'),
      ...textSections(lines),
      context(
        `${text}${items.length > MAX_ITEMS ? ` · ${items.length - MAX_ITEMS} more not shown` : ''} · \`/k8s cancel &lt;id&gt;\` cancels one that has not started`,
      ),
    ],
  };
}

/** What a queued job does, in the verb's own words, and what it touches; falls back to the typed text. */
export function describeQueuedJob(
  verbs: ReadonlyMap<string, Verb>,
  data: { verb: string; args: unknown; request: { text: string } },
): { what: string; target: VerbTarget } {
  const verb = verbs.get(data.verb);
  const parsed = verb?.schema.safeParse(data.args);
  if (verb && parsed?.success) {
    try {
      return { what: verb.runsIn === 'worker' ? verb.describe(parsed.data) : data.request.text, target: verb.target(parsed.data) };
    } catch {
      // a verb that cannot describe these arguments: the typed text below
    }
  }
  return { what: data.request.text.slice(0, 120) || data.verb, target: {} };
}
