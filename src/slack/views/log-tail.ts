/** The live tail's two messages: the headline (with Stop while it runs) and the tail itself, updated in place. */
import { actions, codeBlock, context, escapeMrkdwn, mention, section, type ButtonSpec, type SlackMessage } from '../blocks.js';

/** What fits one section's code block with room for the fence. */
const TAIL_CHARS = 2_800;
const TAIL_LINES = 40;

export interface TailHeadline {
  app: string;
  env: string;
  userId: string;
  /** e.g. "60s", "10m" */
  duration: string;
  /** e.g. "containing `timeout`, " */
  search: string;
}

/** `stop` is the Stop button's action and value (a button that runs `logs … --stop <id>` as the clicker). */
export function tailRunningMessage(h: TailHeadline, stop: Pick<ButtonSpec, 'actionId' | 'value'>): SlackMessage {
  const text = `:eyes: Following logs of ${h.app} in ${h.env} (${escapeMrkdwn(h.search)}for ${h.duration}), requested by ${mention(h.userId)} — new lines appear in the thread, at most once a second.`;
  return {
    text,
    blocks: [section(text), actions('log-tail', [{ text: 'Stop', ...stop, style: 'danger' }])],
  };
}

const END_WORDS = { deadline: 'ran for its whole time', stopped: 'was stopped', cancelled: 'was cancelled (the bot is stopping)' } as const;

export function tailEndedMessage(
  h: TailHeadline,
  end: keyof typeof END_WORDS,
  counts: { total: number; pods: number; dropped: number },
): SlackMessage {
  const text = `:stop_button: Live tail of ${h.app} in ${h.env} ${END_WORDS[end]}: ${counts.total.toLocaleString('en-US')} line${counts.total === 1 ? '' : 's'} from ${counts.pods} pod${counts.pods === 1 ? '' : 's'}, requested by ${mention(h.userId)}.`;
  const notes = counts.dropped ? [context(`The oldest ${counts.dropped.toLocaleString('en-US')} lines were not kept.`)] : [];
  return { text, blocks: [section(text), ...notes] };
}

/** The last lines that fit one code block, newest last. */
export function tailBody(lines: readonly string[], counts: { total: number; pods: number }, at: Date): SlackMessage {
  const shown: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0 && shown.length < TAIL_LINES; i--) {
    const line = lines[i]!;
    if (size + line.length + 1 > TAIL_CHARS) break;
    shown.unshift(line);
    size += line.length + 1;
  }
  const body = shown.join('\n');
  const stamp = at.toISOString().slice(11, 19);
  const summary = `${counts.total.toLocaleString('en-US')} line${counts.total === 1 ? '' : 's'} from ${counts.pods} pod${counts.pods === 1 ? '' : 's'} · last ${shown.length} shown · updated ${stamp} UTC`;
  return {
    text: `${summary}\n${escapeMrkdwn(body.slice(-500))}`,
    blocks: [section(codeBlock(body || '(no lines yet)')), context(summary)],
  };
}
