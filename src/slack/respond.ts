import type { Logger } from '../log.js';
import type { SlackMessage } from './blocks.js';
import { plainTextFallback, reportInvalidBlocks } from './fallback.js';

/** Slack's host for response_url (https://hooks.slack.com/commands/…, /actions/…). */
export const SLACK_HOOKS_ORIGIN = 'https://hooks.slack.com';

// Origins a response_url may point to. Process-wide: every poster (app, worker, alerts) shares it;
// entries are only ever added (an emulator's API origin), never a payload's.
const allowedOrigins = new Set<string>([SLACK_HOOKS_ORIGIN]);

/** Also accept response_urls on the configured SLACK_API_URL's origin (an emulator or a proxy). */
export function allowResponseUrlHosts(apiUrl: string | undefined): void {
  if (apiUrl) allowedOrigins.add(new URL(apiUrl).origin);
}

/** True if the URL is Slack's hooks host (https) or the configured API's origin. */
export function isAllowedResponseUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return allowedOrigins.has(u.origin) && !u.username && !u.password;
  } catch {
    return false;
  }
}

export class ResponseUrlRefused extends Error {
  constructor() {
    super('response_url refused: its host is neither hooks.slack.com nor the configured SLACK_API_URL host');
    this.name = 'ResponseUrlRefused';
  }
}

/**
 * Posts to a command's response_url (works even where the bot is not a channel
 * member; Slack accepts 5 posts within 30 minutes). The URL arrives in payloads
 * and travels through Redis, so it is used only on Slack's own host: the bot is
 * never made to POST to an address inside the cluster. Blocks Slack refuses are
 * logged, counted and sent again as plain text.
 */
export async function postToResponseUrl(
  url: string,
  message: SlackMessage,
  visibility: 'ephemeral' | 'in_channel' = 'ephemeral',
  log?: Logger,
): Promise<void> {
  if (!isAllowedResponseUrl(url)) throw new ResponseUrlRefused();
  const post = (body: SlackMessage) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: visibility, replace_original: false, ...body }),
      signal: AbortSignal.timeout(5_000),
      redirect: 'error',
    });
  let res = await post(message);
  if (!res.ok && message.blocks?.length) {
    const answer = (await res.json().catch(() => undefined)) as { error?: string; errors?: unknown } | undefined;
    if (answer?.error === 'invalid_blocks') {
      reportInvalidBlocks('response_url', Array.isArray(answer.errors) ? answer.errors.map(String) : [], log);
      res = await post({ text: plainTextFallback(message) });
    }
  }
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
