/**
 * When Slack refuses a message's blocks (`invalid_blocks`), the message must
 * not vanish: Slack's `errors` are logged, the refusal is counted, and the same
 * content goes out again as plain mrkdwn text, so the person still hears.
 */
import type { Logger } from '../log.js';
import { slackInvalidBlocksTotal } from '../server/metrics.js';
import { truncate, type Block } from './blocks.js';

/** Slack refuses message text longer than this (msg_too_long); keep a margin. */
export const MAX_TEXT = 39_000;

const NOTE = '_(Shown as plain text: Slack refused the formatted version.)_';

function textOf(obj: unknown): string | undefined {
  const t = (obj as { text?: unknown } | undefined)?.text;
  return typeof t === 'string' ? t : undefined;
}

/** The words of a message's blocks, in order, as mrkdwn (already escaped when the blocks were built). */
export function blocksAsText(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    const own = textOf(b['text']);
    if (own) out.push(b.type === 'header' ? `*${own}*` : own);
    for (const f of (b['fields'] as unknown[] | undefined) ?? []) {
      const t = textOf(f);
      if (t) out.push(t);
    }
    if (b.type === 'context') {
      const parts = ((b['elements'] as unknown[] | undefined) ?? []).map(textOf).filter((t): t is string => !!t);
      if (parts.length) out.push(parts.join(' · '));
    }
  }
  return out.join('\n');
}

/** The plain-text version of a message whose blocks Slack refused. */
export function plainTextFallback(message: { text?: string; blocks?: readonly Block[] }): string {
  const body = message.blocks?.length ? blocksAsText(message.blocks) : '';
  const text = body || message.text || '';
  return `${truncate(text, MAX_TEXT)}\n${NOTE}`;
}

/** The errors Slack listed with an invalid_blocks refusal (`[ "… [json-pointer:/blocks/…]" ]`). */
export function slackErrors(err: unknown): string[] {
  const data = (err as { data?: { errors?: unknown; response_metadata?: { messages?: unknown } } } | undefined)?.data;
  const list = data?.errors ?? data?.response_metadata?.messages;
  return Array.isArray(list) ? list.map(String) : [];
}

/** Logs and counts a refusal; `where` is the Web API method or `response_url`. */
export function reportInvalidBlocks(where: string, errors: string[], log: Logger | undefined, context: Record<string, unknown> = {}): void {
  slackInvalidBlocksTotal.inc({ method: where });
  log?.error({ method: where, slackErrors: errors, ...context }, 'Slack refused a message as invalid_blocks; sending it as plain text');
}
