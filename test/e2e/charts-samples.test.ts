/** The metrics.k8s.io ring buffers in a real Redis, and the observed peak the Raise button gets from them. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observedPeak } from '../../src/alerts/chart.js';
import type { Occurrence } from '../../src/alerts/messages.js';
import { SampleStore } from '../../src/charts/samples.js';
import { createRedis } from '../../src/queue/redis.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../support/redis.js';

const Mi = 2 ** 20;
const prefix = freshPrefix('charts-samples');
let redis: Redis;
beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, 'producer');
});
afterAll(async () => {
  redis?.disconnect();
  await deletePrefix(prefix);
});

const oom = (pod: string, container: string): Occurrence => ({
  pod,
  container,
  at: Date.now(),
  diagnosis: { kind: 'OOMKilled', pod, container, restarts: 1, suggestion: '' } as Occurrence['diagnosis'],
});

describe('memory samples in Redis', () => {
  it('keeps at most maxSamples per pod under the prefix, with a TTL, and reads one container since a time', async () => {
    const store = new SampleStore(redis, prefix, { maxSamples: 3, ttlMs: 60_000 });
    for (let i = 1; i <= 5; i++)
      await store.append('c1', 'beta', i * 1_000, [
        {
          pod: 'web-1',
          containers: [
            { container: 'app', bytes: i * Mi },
            { container: 'side', bytes: 1 },
          ],
        },
        { pod: 'web-2', containers: [{ container: 'app', bytes: 7 * Mi }] },
      ]);
    expect(await store.read('c1', 'beta', 'web-1', 'app')).toEqual([
      [3_000, 3 * Mi],
      [4_000, 4 * Mi],
      [5_000, 5 * Mi],
    ]);
    expect(await store.read('c1', 'beta', 'web-1', 'app', 4_000)).toEqual([
      [4_000, 4 * Mi],
      [5_000, 5 * Mi],
    ]);
    expect(await store.read('c1', 'beta', 'gone', 'app')).toEqual([]);
    const key = `${prefix}:chatops:memory:c1:beta:web-1`;
    expect(await redis.llen(key)).toBe(3);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await store.setApiState('c1', { state: 'absent', at: 1, message: 'not found' }, 5_000);
    expect(await store.apiState('c1')).toEqual({ state: 'absent', at: 1, message: 'not found' });
    expect(await store.apiState('c2')).toBeUndefined();
  });

  it("gives the Raise button the highest sample of the latest occurrence's container in the last hour", async () => {
    const store = new SampleStore(redis, prefix);
    const now = Date.now();
    await store.append('c1', 'prod', now - 2 * 3_600_000, [{ pod: 'api-1', containers: [{ container: 'app', bytes: 900 * Mi }] }]);
    await store.append('c1', 'prod', now - 60_000, [{ pod: 'api-1', containers: [{ container: 'app', bytes: 300 * Mi }] }]);
    await store.append('c1', 'prod', now - 30_000, [{ pod: 'api-1', containers: [{ container: 'app', bytes: 310 * Mi }] }]);
    const incident = { cluster: 'c1', namespace: 'prod', head: oom('api-0', 'app'), last: oom('api-1', 'app') };
    expect(await observedPeak({ samples: store }, incident, now)).toBe(310 * Mi);
    expect(await observedPeak({ samples: store }, { ...incident, last: oom('api-9', 'app') }, now)).toBeUndefined();
    expect(await observedPeak({}, incident, now)).toBeUndefined();
  });
});
