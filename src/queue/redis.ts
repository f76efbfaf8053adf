import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Connections for producers fail fast when Redis is down (no offline queue), so a
 * command is answered within Slack's 3 s; workers and blocking clients wait and
 * retry forever (maxRetriesPerRequest: null), as BullMQ requires.
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectTimeout: 2_000,
    lazyConnect: false,
    ...extra,
  };
  const options: RedisOptions =
    role === 'producer'
      ? { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { ...base, maxRetriesPerRequest: null };
  const client = new Redis(url, options);
  // ioredis emits 'error' on every failed reconnect; the readiness probe reports it, so don't crash or spam.
  client.on('error', () => {});
  return client;
}

/** Resolves true if Redis answers PING within the timeout. */
export async function redisAnswers(client: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  try {
    const result = await Promise.race([client.ping(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref())]);
    return result === 'PONG';
  } catch {
    return false;
  }
}
