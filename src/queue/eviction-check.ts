import type { Redis } from 'ioredis';
import { connectOnce, DEFAULT_REDIS_URL, describeRedis, type RedisSettings } from './redis.js';
import { evictionWarning, readEvictionPolicy } from './eviction.js';

/** The URL without its password, for output. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

/**
 * For `check`: one line about Redis's eviction policy. `evicts` is true only when
 * Redis answered with a policy other than noeviction (a refused CONFIG is a warning).
 */
export async function checkRedisEviction(at: string | RedisSettings = DEFAULT_REDIS_URL): Promise<{ line: string; evicts: boolean }> {
  const where = `Redis ${typeof at === 'string' ? shownUrl(at) : describeRedis(at)}`;
  let client: Redis;
  try {
    client = await connectOnce(at);
  } catch (err) {
    return {
      line: `${where}: not reachable (${(err as Error).message}); maxmemory-policy not checked — it must be noeviction.`,
      evicts: false,
    };
  }
  try {
    const policy = await readEvictionPolicy(client);
    const warning = evictionWarning(policy);
    if (!warning) return { line: `${where}: maxmemory-policy noeviction — ok`, evicts: false };
    return { line: `${where}: WARNING: ${warning}`, evicts: policy !== 'unknown' };
  } finally {
    client.disconnect();
  }
}
