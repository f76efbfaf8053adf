/**
 * The first-ten-minutes checks, at start-up and in `npm run check`: one plain
 * sentence per dependency that is not ready (Slack token, Redis), never a stack trace.
 * Clusters are checked by src/kube/reachability.ts (unreachable ≠ permission missing).
 */
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { connectOnce, describeRedis, type RedisSettings } from '../queue/redis.js';

/** The value .env.example ships with. */
export const PLACEHOLDER_BOT_TOKEN = 'xoxb-your-bot-token';
export const HOW_TO_START_REDIS =
  'Start one with `docker run -d -p 6379:6379 redis:7` (or `sudo apt-get install redis-server`), or set REDIS_URL.';

const REJECTED = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type']);

export interface Finding {
  ok: boolean;
  /** One plain sentence. */
  sentence: string;
  /** Start-up cannot continue (a missing, placeholder or rejected token). */
  fatal?: boolean;
}

/** The bot token: set, not the .env.example placeholder, and accepted by Slack (auth.test). */
export async function checkSlackToken(token: string | undefined, apiUrl?: string): Promise<Finding> {
  if (!token)
    return {
      ok: false,
      fatal: true,
      sentence:
        "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page into .env.",
    };
  if (token === PLACEHOLDER_BOT_TOKEN || /your|changeme|placeholder/i.test(token)) {
    return {
      ok: false,
      fatal: true,
      sentence:
        "SLACK_BOT_TOKEN is still the placeholder from .env.example: replace it in .env with the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page.",
    };
  }
  const client = new WebClient(token, { ...(apiUrl ? { slackApiUrl: apiUrl } : {}), retryConfig: { retries: 0 }, timeout: 5_000 });
  try {
    const auth = await client.auth.test();
    return {
      ok: true,
      sentence: `Slack: the bot token is accepted (workspace ${auth.team ?? auth.team_id ?? '?'}, bot @${auth.user ?? auth.user_id ?? '?'}).`,
    };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code && REJECTED.has(code)) {
      return {
        ok: false,
        fatal: true,
        sentence: `Slack rejected SLACK_BOT_TOKEN (${code}): copy the current Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page; reinstall the app if it was revoked.`,
      };
    }
    // Slack unreachable is not the token's fault: warn, the bot retries when it calls Slack.
    return {
      ok: false,
      sentence: `Slack could not be asked whether the bot token is valid (${code ?? (err as Error).message}): check the network or SLACK_API_URL.`,
    };
  }
}

/** Does Redis answer PING? */
export async function checkRedis(where: string | RedisSettings): Promise<Finding> {
  let client: Redis | undefined;
  try {
    client = await connectOnce(where);
    await client.ping();
    return { ok: true, sentence: `Redis at ${describeRedis(where)} answers.` };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      ok: false,
      sentence: `Redis at ${describeRedis(where)} is unreachable (${code ?? (err as Error).message}). ${HOW_TO_START_REDIS}`,
    };
  } finally {
    client?.disconnect();
  }
}
