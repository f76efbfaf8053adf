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
    await h.deployAndWait('myapp', 'beta', '1.0.1');
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
  });
});

describe('a button clicked while Redis is down', () => {
  const OPS = 'C0OPS';
  const buttonValue = (blocks: unknown): string =>
    (blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.action_id === 'chatops_run')!.value;

  it('says the bot cannot reach its store (try again), not that the button expired; nothing changes', async () => {
    if (h.chatops.redis.status !== 'ready') await once(h.chatops.redis, 'ready');
    const res = await h.command('scale myapp beta 0', { channel: OPS });
    const ask = await h.answer(res.responseUrl, /Scaling myapp in beta to 0/);
    const value = buttonValue(ask.body.blocks);
    const replicas = () => h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp')?.spec.replicas as number;
    const before = replicas();
    expect(before).toBeGreaterThan(0);

    await redis.stop();
    const down = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: '1700000000.000100',
      action_id: 'chatops_run',
      value,
      response_url: down,
    });
    const told = await h.answer(down);
    expect(told.body.text).toMatch(/^:hourglass: I cannot reach my store \(Redis\) right now, so this did nothing\. Try again in a minute/);
    expect(told.body.text).not.toMatch(/expired/);
    expect(JSON.stringify(told.body.blocks)).toContain('E_UNAVAILABLE');
    expect(replicas()).toBe(before);

    // This private Redis keeps nothing across a restart, so the button's command is gone once it is back.
    await redis.start();
    if (h.chatops.redis.status !== 'ready') await once(h.chatops.redis, 'ready');
  });
});

describe('jobs and cancel while Redis is down', () => {
  it('answer with the one store-unreachable error (E_UNAVAILABLE), not "no such job", and change nothing', async () => {
    if (h.chatops.redis.status !== 'ready') await once(h.chatops.redis, 'ready');
    expect((await h.command('jobs', { channel: 'C0OPS' })).json.text).toBe('No queued, waiting or running work in every channel.');
    const kubeWrites = () => h.kube.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews')).length;
    const writesBefore = kubeWrites();

    await redis.stop();
    const since = h.mark();
    for (const text of ['jobs', `cancel cmd-${'a1'.repeat(12)}`, 'cancel apr-abcdefgh12']) {
      const res = await h.command(text, { channel: 'C0OPS', user: 'U0OPS' });
      expect(res.ms, text).toBeLessThan(3_000);
      expect(res.json.text, text).toMatch(
        /^:hourglass: I cannot reach my store \(Redis\) right now, so this did nothing\. Try again in a minute/,
      );
      expect(JSON.stringify(res.json.blocks), text).toContain('E_UNAVAILABLE');
    }
    expect(h.slack.calls.filter((c) => c.seq > since && c.method.startsWith('chat.'))).toEqual([]);
    expect(kubeWrites()).toBe(writesBefore);

    await redis.start();
    if (h.chatops.redis.status !== 'ready') await once(h.chatops.redis, 'ready');
  });
});
