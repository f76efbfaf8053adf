import { once } from 'node:events';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Redis } from 'ioredis';
import { useHarness } from '../support/use-harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';
import { watchEvictionPolicy } from '../../src/queue/eviction.js';
import { checkRedisEviction } from '../../src/queue/eviction-check.js';

// Private Redis servers on free ports: the shared 127.0.0.1:6379 keeps its noeviction policy.
let lru: PrivateRedis;
let managed: PrivateRedis;
beforeAll(async () => {
  [lru, managed] = await Promise.all([startPrivateRedis({ maxmemoryPolicy: 'allkeys-lru' }), startPrivateRedis({ refuseConfig: true })]);
});
afterAll(async () => {
  await Promise.all([lru?.stop(), managed?.stop()]);
});
const h = useHarness(() => ({ name: 'redis-eviction', redisUrl: lru.url }));

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

async function waitForLine(lines: Array<Record<string, unknown>>, pred: (l: Record<string, unknown>) => boolean, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!lines.some(pred)) {
    if (Date.now() > deadline) throw new Error(`no such log line; got ${JSON.stringify(lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lines.find(pred)!;
}

describe("Redis's eviction policy", () => {
  it('says in /readyz details when the policy is not noeviction (still ready: the bot works, but may lose jobs)', async () => {
    const res = await fetch(`${h.baseUrl}/readyz`);
    const body = await res.json();
    expect(body).toMatchObject({
      ok: true,
      details: { redis: { maxmemoryPolicy: 'allkeys-lru', warning: expect.stringMatching(/not noeviction.*queued jobs/) } },
    });
  });

  it('warns loudly at (re)connection when the policy evicts, and is quiet about noeviction', async () => {
    const { log, lines } = capturingLogger();
    const client = new Redis(lru.url);
    await once(client, 'ready');
    watchEvictionPolicy(client, log);
    const line = await waitForLine(lines, (l) => l.maxmemoryPolicy === 'allkeys-lru');
    expect(line.level).toBe(50); // error: loud enough for any alerting on the log
    expect(line.msg).toMatch(/maxmemory-policy is "allkeys-lru", not noeviction/);
    // Fixed by ops: the next connection reads it again.
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    client.disconnect(true);
    await waitForLine(lines, (l) => l.maxmemoryPolicy === 'noeviction' && l.level === 30);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    client.disconnect();
  });

  it('tolerates a managed Redis that refuses CONFIG: policy "unknown", with a warning', async () => {
    const { log, lines } = capturingLogger();
    const client = new Redis(managed.url);
    watchEvictionPolicy(client, log);
    const line = await waitForLine(lines, (l) => l.maxmemoryPolicy === 'unknown');
    expect(line.msg).toMatch(/Could not read Redis maxmemory-policy/);
    client.disconnect();
  });

  it('is part of `check`: a failure for an evicting policy, a warning for an unknown one, ok for noeviction', async () => {
    const evicting = await checkRedisEviction(lru.url);
    expect(evicting).toEqual({ evicts: true, line: expect.stringMatching(/WARNING: Redis maxmemory-policy is "allkeys-lru"/) });
    const unknown = await checkRedisEviction(managed.url);
    expect(unknown).toEqual({ evicts: false, line: expect.stringMatching(/WARNING: Could not read Redis maxmemory-policy/) });
    const fine = await checkRedisEviction(managed.url.replace(String(managed.port), '1'));
    expect(fine.evicts).toBe(false);
    expect(fine.line).toMatch(/not reachable/);
  });
});
