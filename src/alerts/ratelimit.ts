/**
 * Token buckets in Redis, shared by every replica that delivers alerts: one per
 * Slack channel for chat.postMessage (~1 message/s, short bursts tolerated) and
 * one for chat.update (Tier 3, ~50/min). Time is Redis' own (TIME), so replicas
 * with skewed clocks still agree.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from './lua.js';

export interface RateLimit {
  /** Sustained rate. */
  perSecond: number;
  /** Calls allowed at once after a quiet spell. */
  burst: number;
}

/** Slack's per-channel posting rate: 1 message/s, no bursts (Slack tolerates short ones, but a storm is not short). */
export const CHANNEL_POST_LIMIT: RateLimit = { perSecond: 1, burst: 1 };
/** chat.update is Tier 3: about 50 per minute. */
export const UPDATE_LIMIT: RateLimit = { perSecond: 50 / 60, burst: 10 };

/**
 * KEYS: bucket, block (set after a 429), yield-to set (may be empty).
 * ARGV: per second, burst, yield (1/0), yield entries older than this (ms) are dropped.
 * Returns 0 when a token was taken, else the ms to wait.
 */
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return blocked end
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if ARGV[3] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
  if redis.call('ZCARD', KEYS[3]) > 0 then wait = math.max(1, math.ceil(0.5 / rate)) end
end
if wait == 0 then
  if tokens >= 1 then tokens = tokens - 1 else wait = math.max(1, math.ceil((1 - tokens) / rate)) end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
`);

export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(bucket: string): string {
    return `${this.prefix}:chatops:alerts:rate:${bucket}`;
  }

  /**
   * Takes a token from `bucket`: 0 = go ahead, else how many ms to wait. With
   * `yieldTo`, a call that can wait leaves the token while that sorted set (e.g.
   * new incidents waiting for their first message) holds recent entries.
   */
  async take(bucket: string, limit: RateLimit, yieldTo?: string, yieldMaxAgeMs = 60_000): Promise<number> {
    const keys = [this.key(bucket), `${this.key(bucket)}:blocked`, yieldTo ?? `${this.key(bucket)}:none`];
    const args = [limit.perSecond, limit.burst, yieldTo ? 1 : 0, yieldMaxAgeMs];
    return Number(await TAKE.run(this.redis, keys, args));
  }

  /** Slack answered 429 with Retry-After: nothing goes to this bucket for `ms`. */
  async block(bucket: string, ms: number): Promise<void> {
    await this.redis.set(`${this.key(bucket)}:blocked`, '1', 'PX', Math.max(1, Math.ceil(ms)));
  }
}

/** How long Slack asks to wait (its 429 Retry-After, from the Web API client's rate-limited error), or undefined. */
export function slackRetryAfterMs(err: unknown): number | undefined {
  const e = err as { code?: string; retryAfter?: number };
  if (e?.code === 'slack_webapi_rate_limited_error') return (e.retryAfter ?? 1) * 1_000;
  return undefined;
}
