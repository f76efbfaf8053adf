/**
 * A Redis connection cut while a command is in flight, and back at the first reconnect (a quick
 * Redis restart, a proxy or load balancer dropping the link): ioredis without auto-resend drops
 * such commands unanswered. The producer must fail them, and a BullMQ queue whose one-time start
 * was among them must fail its start, not hang (it would refuse every job for good).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis } from '../src/queue/redis.js';
import { createCommandQueue } from '../src/queue/commands.js';
import { freshPrefix, TEST_REDIS_URL } from './support/redis.js';

/** A TCP proxy to the test Redis that can swallow what clients send, then cut every link (new ones go through). */
async function cuttableProxy() {
  const upstream = new URL(TEST_REDIS_URL);
  const links = new Set<Socket>();
  let swallowing = false;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const redis = connect(Number(upstream.port || 6379), upstream.hostname);
    links.add(client).add(redis);
    client.on('data', (chunk) => {
      if (!swallowing) redis.write(chunk);
    });
    redis.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      redis.destroy();
    };
    client.on('close', end).on('error', end);
    redis.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const url = `redis://${upstream.username ? `${upstream.username}:${upstream.password}@` : upstream.password ? `:${upstream.password}@` : ''}127.0.0.1:${port}`;
  return {
    url,
    swallow: () => void (swallowing = true),
    /** New links are closed at once (Redis away); `accept` lets them through again. */
    refuse: () => void (refusing = true),
    accept: () => void (refusing = false),
    /** Cuts every link and lets the next ones through. */
    cut() {
      swallowing = false;
      for (const s of links) s.destroy();
      links.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** 'ready' again ('error' events of the cut are expected, unlike events.once). */
const ready = (client: { once(event: 'ready', fn: () => void): unknown }) => new Promise<void>((resolve) => client.once('ready', resolve));

const settle = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      (v) => ({ settled: 'resolved', v }),
      (e: unknown) => ({ settled: 'rejected', v: (e as Error).message }),
    ),
    new Promise((r) => setTimeout(() => r({ settled: 'hung' }), ms)),
  ]);

describe('a producer connection cut with commands in flight', () => {
  it('fails those commands (they are never answered), and works after the reconnect', async () => {
    const proxy = await cuttableProxy();
    cleanup.push(() => proxy.close());
    const producer = createRedis(proxy.url, 'producer');
    cleanup.push(() => producer.disconnect());
    await once(producer, 'ready');
    proxy.swallow();
    const inFlight = settle(producer.set(`${freshPrefix('lost')}:k`, 'v'), 5_000);
    // The SET is written; the proxy swallowed it. Cut the link: the first reconnect succeeds.
    await new Promise((r) => setImmediate(r));
    proxy.cut();
    await ready(producer);
    expect(await inFlight).toEqual({ settled: 'rejected', v: 'Connection is closed.' });
    expect(await producer.ping()).toBe('PONG');
  });

  it('a queue whose one-time start was lost is made again once Redis answers: jobs are taken, none refused for good', async () => {
    const proxy = await cuttableProxy();
    cleanup.push(() => proxy.close());
    const producer = createRedis(proxy.url, 'producer');
    cleanup.push(() => producer.disconnect());
    await ready(producer);
    proxy.swallow();
    const queue = createCommandQueue(producer, `{${freshPrefix('lost')}}`);
    cleanup.push(() => queue.close().catch(() => undefined));
    // BullMQ's start (an INFO) is written and swallowed; the link is cut and comes back at once.
    const firstStart = settle(queue.waitUntilReady(), 5_000);
    await new Promise((r) => setImmediate(r));
    proxy.cut();
    expect(await firstStart).toMatchObject({ settled: 'rejected' });
    await ready(producer);
    const job = await settle(queue.add('x', { n: 1 } as never, { jobId: 'after-the-cut' }), 5_000);
    expect(job).toMatchObject({ settled: 'resolved' });
    expect((await queue.getJob('after-the-cut'))?.data).toEqual({ n: 1 });
  });

  it('a queue made while Redis is away takes jobs once it is back (the bot starts before Redis)', async () => {
    const proxy = await cuttableProxy();
    cleanup.push(() => proxy.close());
    proxy.refuse();
    const producer = createRedis(proxy.url, 'producer');
    cleanup.push(() => producer.disconnect());
    const queue = createCommandQueue(producer, `{${freshPrefix('late')}}`);
    cleanup.push(() => queue.close().catch(() => undefined));
    // ioredis gives up on the queued INFO after its retry limit: that start failed.
    expect(await settle(queue.waitUntilReady(), 10_000)).toMatchObject({ settled: 'rejected' });
    proxy.accept();
    await ready(producer);
    expect(await settle(queue.add('x', { n: 2 } as never, { jobId: 'late' }), 5_000)).toMatchObject({ settled: 'resolved' });
  });
});
