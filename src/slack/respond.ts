import type { SlackMessage } from './blocks.js';

/**
 * Posts to a command's response_url (works even where the bot is not a channel
 * member; Slack accepts 5 posts within 30 minutes).
 */
export async function postToResponseUrl(url: string, message: SlackMessage, visibility: 'ephemeral' | 'in_channel' = 'ephemeral'): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: visibility, replace_original: false, ...message }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
