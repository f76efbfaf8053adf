import type { UserFacingError } from '../errors/index.js';
import { context, section, type SlackMessage } from './blocks.js';

/** The Slack error code of a failed Web API call (`not_in_channel`, `ratelimited`, …), if any. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } } | undefined;
  if (e?.data?.error) return e.data.error;
  if (e?.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  return undefined;
}

export const NOT_IN_CHANNEL_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

export function inviteHint(channelId: string): string {
  return `:wave: I can't post in <#${channelId}> because I'm not a member of it. Invite me with \`/invite @k8s-chatops\` (or add the app from the channel's settings), then try again. I'll keep reporting to you here meanwhile.`;
}

/** A failure as a message: what happened, then a context line with the code (and ref) a user can quote to ops. */
export function errorMessage(described: UserFacingError, text = described.text): SlackMessage {
  return {
    text,
    blocks: [section(text), context(`error \`${described.code}\`${described.ref ? ` · ref \`${described.ref}\`` : ''}`)],
  };
}
