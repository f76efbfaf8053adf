import { Redis } from 'ioredis';
import { DEFAULT_REDIS_URL } from './redis.js';
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
export async function checkRedisEviction(url = DEFAULT_REDIS_URL): Promise<{ line: string; evicts: boolean }> {
  const where = `Redis ${shownUrl(url)}`;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
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
