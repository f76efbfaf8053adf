import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Signer } from '../../src/security/signing.js';

/** The CHATOPS_SIGNING_KEY of every test bot (a forged record is signed with another key, or not at all). */
export const TEST_SIGNING_KEY = 'test-signing-key-0123456789abcdef0123456789';
export const testSigner = (): Signer => new Signer({ current: TEST_SIGNING_KEY });

/** Tests use a real Redis: REDIS_URL if set, else the local default (.ci/run starts one if none answers). */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh BullMQ prefix per test file keeps queues apart without flushing anything; a hash tag, as in production. */
export function freshPrefix(name: string): string {
  return `{t-${name}-${randomBytes(4).toString('hex')}}`;
}

/** Deletes every key under a prefix (the test's or the playground's own queues and state). */
export async function deletePrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every key under a prefix whose content (any type: string, hash, list, set, sorted set, stream) contains `needle`. */
export async function keysHolding(prefix: string, needle: string, url = TEST_REDIS_URL): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const content =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? await redis.hgetall(key)
              : type === 'list'
                ? await redis.lrange(key, '0', '-1')
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                    : type === 'stream'
                      ? await redis.xrange(key, '-', '+')
                      : `unknown type ${type}`;
        if (`${key}\n${JSON.stringify(content)}`.includes(needle)) found.push(key);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return found;
}
