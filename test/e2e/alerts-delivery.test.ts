import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertQueue, enqueueIncident, type AlertJob } from '../../src/alerts/alert-queue.js';
import { startDelivery, type RunningDelivery } from '../../src/alerts/delivery.js';
import { IncidentStore, type IncidentKey } from '../../src/alerts/incidents.js';
import type { Occurrence } from '../../src/alerts/messages.js';
import { RateLimiter } from '../../src/alerts/ratelimit.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/queue/redis.js';
import { AuditLog } from '../../src/audit/index.js';
import { IntentStore } from '../../src/command/intents.js';
import { BOT_TOKEN } from '../support/harness.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../support/redis.js';
import { startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';
import type { Queue } from 'bullmq';

/** Delivery alone (no cluster): incident state in a real Redis, Slack's emulator answering, 429s included. */
let slack: SlackEmulator;
let redis: Redis;
let store: IncidentStore;
let queue: Queue<AlertJob>;
let delivery: RunningDelivery;
const prefix = freshPrefix('alerts-delivery');
const connections: Redis[] = [];

function startWorker(): RunningDelivery {
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  connections.push(connection);
  return startDelivery({
    queue,
    connection,
    prefix,
    store,
    limiter: new RateLimiter(redis, prefix),
    slack: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, rejectRateLimitedCalls: true }),
    intents: new IntentStore(redis, prefix, testSigner()),
    signer: testSigner(),
    audit: new AuditLog(redis, prefix, createLogger('silent')),
    cluster: () => undefined,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
}

beforeAll(async () => {
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
  redis = createRedis(TEST_REDIS_URL, 'producer');
  store = new IncidentStore(redis, prefix);
  queue = createAlertQueue(redis, prefix);
  delivery = startWorker();
});
afterAll(async () => {
  await delivery?.close();
  await queue?.close();
  connections.forEach((c) => c.disconnect());
  redis?.disconnect();
  await slack?.close();
  await deletePrefix(prefix);
});

const key = (channel: string, name: string): IncidentKey => ({
  channel,
  cluster: 'default',
  namespace: 'beta',
  env: 'beta',
  workload: { kind: 'StatefulSet', name },
  kind: 'OOMKilled',
});
const occurrence = (pod: string, restarts: number): Occurrence => ({
  pod,
  container: 'db',
  at: Date.now(),
  diagnosis: { kind: 'OOMKilled', pod, namespace: 'beta', at: Date.now(), container: 'db', restarts, logTail: [], suggestion: 'raise it' },
});
async function occur(k: IncidentKey, pod: string, restarts: number) {
  const res = await store.record(
    k,
    { recoverAfterMs: 60_000, reopenWithinMs: 0 },
    `uid-${pod}`,
    `${pod}/db`,
    restarts,
    occurrence(pod, restarts),
    Date.now(),
  );
  if (res.recorded) await enqueueIncident(queue, res.id, res.isNew);
  return res;
}

describe('alert delivery', () => {
  it('counts an occurrence once however often it is seen', async () => {
    const k = key('C0DEDUP', 'dedup');
    expect((await occur(k, 'dedup-0', 1)).recorded).toBe(true);
    expect((await occur(k, 'dedup-0', 1)).recorded).toBe(false);
    expect((await occur(k, 'dedup-0', 2)).count).toBe(2);
    await slack.waitForCall((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0DEDUP' && /Again/.test(c.args.text));
    expect(slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0DEDUP')).toHaveLength(2);
  });

  it('honours 429 Retry-After: waits as long as Slack asks, then posts; nothing is lost', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await occur(key('C0LIMITED', 'limited'), 'limited-0', 1);
    const limited = await slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.rateLimited === true && c.args.channel === 'C0LIMITED',
    );
    const posted = await slack.waitForCall((c) => c.method === 'chat.postMessage' && c.ok && c.args.channel === 'C0LIMITED');
    expect(posted.at - limited.at).toBeGreaterThanOrEqual(1_000);
    expect(slack.topLevel('C0LIMITED')).toHaveLength(1);
  });

  it('summarises a burst in a thread reply and keeps the channel within 1 message/s', async () => {
    // Slack tolerates short bursts; we post at most 2 at once, the emulator answers 429 beyond 3.
    slack.setChannelRateLimit({ perSecond: 1, burst: 3 });
    const k = key('C0BURST', 'burst');
    const first = await occur(k, 'burst-0', 1);
    for (let i = 1; i < 40; i++) await occur(k, `burst-${i}`, 1);
    const top = await slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.ok && c.args.channel === 'C0BURST' && !c.args.thread_ts,
    );
    // Everything after the first occurrence is summarised in as few replies as the rate allows.
    await slack.waitForCall(() => {
      const replies = slack.thread('C0BURST', top.response.ts);
      const reported = replies.reduce(
        (n, m) => n + Number(/(\d+) more occurrences/.exec(m.text)?.[1] ?? (/Again/.test(m.text) ? 1 : 0)),
        0,
      );
      return reported === 39;
    }, 10_000);
    expect(slack.thread('C0BURST', top.response.ts).length).toBeLessThanOrEqual(3);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.rateLimited && c.args.channel === 'C0BURST')).toEqual([]);
    const final = await slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === top.response.ts && /40 occurrences/.test(c.args.text),
      10_000,
    );
    expect(final.ok).toBe(true);
    expect((await store.load(first.id))?.count).toBe(40);
    slack.setChannelRateLimit(null);
  });

  it('does not post again after a restart of the delivery: the state is in Redis', async () => {
    const k = key('C0RESTART', 'restart');
    await occur(k, 'restart-0', 1);
    const top = await slack.waitForCall((c) => c.method === 'chat.postMessage' && c.ok && c.args.channel === 'C0RESTART');
    await delivery.close();
    delivery = startWorker();
    await occur(k, 'restart-1', 1);
    await slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.ok && c.args.thread_ts === top.response.ts && /Again/.test(c.args.text),
    );
    expect(slack.topLevel('C0RESTART')).toHaveLength(1);
  });

  it('puts a Recovered headline before pending count-only updates of other incidents', async () => {
    // Its own queue and buckets: a fast channel, a slow chat.update budget (one per 2 s, no burst) that the counts compete for.
    const own = freshPrefix('alerts-priority');
    const ownStore = new IncidentStore(redis, own);
    const ownQueue = createAlertQueue(redis, own);
    const connection = createRedis(TEST_REDIS_URL, 'worker');
    connections.push(connection);
    const worker = startDelivery({
      queue: ownQueue,
      connection,
      prefix: own,
      store: ownStore,
      limiter: new RateLimiter(redis, own),
      limits: { channel: { perSecond: 50, burst: 50 }, update: { perSecond: 0.5, burst: 1 } },
      minUpdateIntervalMs: 0,
      slack: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, rejectRateLimitedCalls: true }),
      intents: new IntentStore(redis, own, testSigner()),
      signer: testSigner(),
      audit: new AuditLog(redis, own, createLogger('silent')),
      cluster: () => undefined,
      log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    });
    try {
      const record = async (k: IncidentKey, pod: string, restarts: number) => {
        const res = await ownStore.record(
          k,
          { recoverAfterMs: 60_000, reopenWithinMs: 0 },
          `uid-${pod}`,
          `${pod}/db`,
          restarts,
          occurrence(pod, restarts),
          Date.now(),
        );
        await enqueueIncident(ownQueue, res.id, res.isNew);
        return res;
      };
      const names = ['calm', ...Array.from({ length: 8 }, (_, i) => `noisy-${i}`)];
      const first = new Map<string, Awaited<ReturnType<typeof record>>>();
      for (const name of names) first.set(name, await record(key('C0PRIO', name), `${name}-0`, 1));
      await slack.waitForCall(() => slack.topLevel('C0PRIO').length === names.length, 10_000);
      const since = slack.calls.at(-1)?.seq ?? 0;
      // The noisy incidents' counts change (count-only headline updates), then calm recovers.
      for (const name of names.slice(1)) await record(key('C0PRIO', name), `${name}-0`, 2);
      const updates = () => slack.calls.filter((c) => c.seq > since && c.method === 'chat.update' && c.ok && c.args.channel === 'C0PRIO');
      // The first count update is out; the seven others wait for chat.update's budget when calm recovers.
      await slack.waitForCall(() => updates().length > 0, 10_000);
      const calm = first.get('calm')!;
      expect(await ownStore.recover(calm.id, calm.gen, Date.now(), 60_000)).toBe(true);
      await enqueueIncident(ownQueue, calm.id, false);
      await slack.waitForCall(() => updates().some((c) => /Recovered/.test(String(c.args.text))), 10_000);
      const position = updates().findIndex((c) => /Recovered/.test(String(c.args.text)));
      // Only the count update already out goes before it; the other seven wait.
      expect(
        position,
        updates()
          .map((c) => String(c.args.text).slice(0, 60))
          .join('\n'),
      ).toBeLessThanOrEqual(1);
    } finally {
      await worker.close();
      await ownQueue.close();
      await deletePrefix(own);
    }
  });
});
