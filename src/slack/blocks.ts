/** Block Kit building blocks: plain data, so messages can be compared in tests. */
export type Block = { type: string; block_id?: string; [key: string]: unknown };

export interface SlackMessage {
  /** Fallback text (notifications, screen readers); always set. */
  text: string;
  blocks?: Block[];
}

/** Slack limits a section's text to 3,000 characters. */
const SECTION_LIMIT = 3_000;

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_LIMIT) } });
export const header = (text: string): Block => ({ type: 'header', text: { type: 'plain_text', text: truncate(text, 150), emoji: true } });
export const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, 2_000) }] });
export const fields = (items: string[]): Block => ({
  type: 'section',
  fields: items.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: truncate(text, 2_000) })),
});

export interface ButtonSpec {
  text: string;
  actionId: string;
  value: string;
  style?: 'primary' | 'danger';
}
export const actions = (blockId: string, buttons: ButtonSpec[]): Block => ({
  type: 'actions',
  block_id: blockId,
  elements: buttons.map((b) => ({
    type: 'button',
    text: { type: 'plain_text', text: b.text, emoji: true },
    action_id: b.actionId,
    value: b.value,
    ...(b.style ? { style: b.style } : {}),
  })),
});

/**
 * A code block of outside text (logs, tables of cluster names). Slack keeps
 * `<!channel>` and links live inside code too, so the text is escaped here;
 * backticks are broken up so they cannot end the block early.
 */
export function codeBlock(text: string, max = SECTION_LIMIT - 10): string {
  const safe = escapeMrkdwn(text).replace(/```/g, '`\u200b``');
  return '```' + truncate(safe, max) + '```';
}

/**
 * Bidirectional overrides/isolates and zero-width characters: they can make a
 * value read as something else (`gpj.exe` shown as `exe.jpg`), so they are shown.
 */
const INVISIBLE = /[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * THE boundary for text that is not the bot's own (cluster names, log lines,
 * events, images, config values, anything a user typed): escapes `&`, `<`, `>`
 * so it cannot ping @channel, mention anyone or fake a link, and shows
 * invisible direction/zero-width characters as `⟨U+202E⟩`.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(INVISIBLE, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/**
 * Text a user typed, echoed back: Slack sends `&`, `<`, `>` typed as text already
 * escaped, and turns `@here`, `@channel`, user-group and user mentions into `<!here>`,
 * `<!subteam^S…>`, `<@U…>`; decoded once, then escaped, it shows as typed and never pings.
 */
export function escapeTyped(text: string): string {
  return escapeMrkdwn(text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

export const mention = (userId: string) => `<@${userId}>`;
