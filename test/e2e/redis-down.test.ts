import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';

let redis: PrivateRedis;
let h: Harness;
beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startHarness({ name: 'redisdown', redisUrl: redis.url });
});
afterAll(async () => {
  await h?.stop().catch(() => undefined);
  await redis?.stop();
});

describe('when Redis is down', () => {
  it('answers within 3 s that nothing was queued, and recovers when Redis returns', async () => {
    await redis.stop();
    const res = await h.command('deploy myapp beta 1.0.0');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3_000);
    expect(res.json.text).toMatch(/\*not\* queued.*Redis.*nothing was changed/s);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp')).toBeUndefined();

    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(503);

    const returned = Date.now();
    await redis.start();
    // Recovery: ioredis reconnects by itself; wait for its 'ready' event, not a sleep.
    if (h.chatops.redis.status !== 'ready') await once(h.chatops.redis, 'ready');
    expect(Date.now() - returned).toBeLessThan(5_000);
    const again = await h.command('deploy myapp beta 1.0.1');
    expect(again.json.text).toContain('Queued');
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && /:white_check_mark: deploy myapp 1\.0\.1 → beta/.test(c.args.text),
      15_000,
    );
  });
});
