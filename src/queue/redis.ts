import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Connections for producers fail fast when Redis is down, so a command is answered
 * within Slack's 3 s and nothing is sent later behind the user's back; workers and
 * blocking clients wait and retry forever (maxRetriesPerRequest: null), as BullMQ requires.
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
      ? { ...base, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false, commandTimeout: 1_500 }
      : { ...base, maxRetriesPerRequest: null };
  const client = new Redis(url, options);
  if (role === 'producer') {
    // BullMQ sends INFO as soon as a Queue is built, so the offline queue must be on until the
    // first connection; after that, commands fail at once while Redis is away (handshake
    // commands of a reconnect bypass the offline queue anyway).
    client.once('ready', () => {
      client.options.enableOfflineQueue = false;
    });
  }
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
