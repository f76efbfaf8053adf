/**
 * Enqueue → worker start latency through our queue and worker, beside a raw
 * BullMQ add→process round trip on the same Redis in the same run.
 * Target (DESIGN.md): our p99 ≤ 1.5× raw p99.  Run: npx tsx bench/enqueue.ts
 */
import { Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { createRedis } from '../src/queue/redis.js';
import { createCommandQueue, enqueueCommand } from '../src/queue/commands.js';
import { startCommandWorker } from '../src/worker/index.js';
import { defineVerb, type Verb } from '../src/command/types.js';
import { parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import type { Clusters } from '../src/kube/clusters.js';
import type { WebClient } from '@slack/web-api';
import { AuditLog } from '../src/audit/index.js';
import { IntentStore } from '../src/command/intents.js';
import { Signer } from '../src/security/signing.js';
import { ApprovalStore } from '../src/approvals/store.js';
import { TargetLocks, targetLeaseMs } from '../src/queue/target-lock.js';
import { CommandJobs } from '../src/queue/command-jobs.js';
import { benchSeconds, ms, row, summarize } from './lib.js';

const RATE = 100;

/** Adds `count` jobs one after another (at most RATE/s) and returns add → processor-start latencies. */
async function measure(first: number, count: number, add: (i: number) => Promise<void>, started: Map<number, number>): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = first; i < first + count; i++) {
    const sent = performance.now();
    const done = new Promise<void>((resolve) => startedWaiters.set(i, resolve));
    await add(i);
    await done;
    latencies.push(started.get(i)! - sent);
    await new Promise((r) => setTimeout(r, 1_000 / RATE));
  }
  return latencies;
}
const startedWaiters = new Map<number, () => void>();

export async function benchEnqueue(seconds = benchSeconds(10)): Promise<string[]> {
  const count = Math.round(RATE * seconds);
  const prefix = freshPrefix('bench-enqueue');

  // Raw BullMQ: add → processor start.
  const rawStarted = new Map<number, number>();
  const rawConn = createRedis(TEST_REDIS_URL, 'worker');
  const rawQueue = new Queue('raw', { connection: createRedis(TEST_REDIS_URL, 'producer'), prefix });
  const rawWorker = new Worker(
    'raw',
    async (job) => {
      rawStarted.set(job.data.i, performance.now());
      startedWaiters.get(job.data.i)?.();
    },
    { connection: rawConn, prefix, concurrency: 10 },
  );
  await rawWorker.waitUntilReady();

  // Ours: enqueueCommand → our worker → the verb's run() starts.
  const ourStarted = new Map<number, number>();
  const noop = defineVerb({
    verb: 'noop',
    summary: 'bench',
    usage: 'noop',
    example: 'noop',
    class: 'read',
    runsIn: 'worker',
    positionals: ['i'],
    schema: z.object({ i: z.number() }),
    target: () => ({}),
    describe: () => 'noop',
    async run(ctx) {
      ourStarted.set(ctx.args.i, performance.now());
      startedWaiters.get(ctx.args.i)?.();
    },
  });
  const verbs = new Map<string, Verb>([['noop', noop]]);
  const config = parseConfig(
    'environments: { beta: { namespace: beta } }\nchannels: { C0BENCH: { environments: [beta], commands: ["*"] } }',
    'bench.yaml',
  );
  const ourRedis = createRedis(TEST_REDIS_URL, 'producer');
  const signer = new Signer({ current: 'bench-signing-key-0123456789abcdef012345' });
  const ourQueue = createCommandQueue(ourRedis, prefix);
  const locks = new TargetLocks(ourRedis, prefix, targetLeaseMs());
  const worker = startCommandWorker({
    config,
    verbs,
    clusters: {} as Clusters,
    slack: {} as WebClient,
    members: { isMember: async () => true },
    log: createLogger('silent'),
    connection: createRedis(TEST_REDIS_URL, 'worker'),
    prefix,
    services: {
      queue: ourQueue,
      audit: new AuditLog(ourRedis, prefix, createLogger('silent')),
      intents: new IntentStore(ourRedis, prefix, signer),
      approvals: new ApprovalStore(ourRedis, prefix, signer),
      slack: {} as WebClient,
      redis: ourRedis,
      prefix,
      signer,
      locks,
      jobs: new CommandJobs(ourQueue, locks),
    },
    expiryQueue: ourQueue,
  });
  await worker.worker.waitUntilReady();

  const request = (i: number) => ({
    requestId: `bench${i}x${Date.now()}`,
    text: 'noop',
    userId: 'U0BENCH',
    channelId: 'C0BENCH',
    receivedAt: Date.now(),
  });
  const addRaw = async (i: number) => {
    await rawQueue.add('x', { i });
  };
  const addOurs = async (i: number) => {
    await enqueueCommand(ourQueue, signer, { verb: 'noop', args: { i }, request: request(i) });
  };
  // Warm-up, then alternate one raw and one of ours, so both see the same machine.
  await measure(0, 50, addRaw, rawStarted);
  await measure(1_000, 50, addOurs, ourStarted);
  const raw: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < count; i++) {
    raw.push(...(await measure(10_000 + i, 1, addRaw, rawStarted)));
    ours.push(...(await measure(10_000 + i, 1, addOurs, ourStarted)));
  }

  await worker.close(1_000);
  await rawWorker.close();
  await rawQueue.close();
  await ourQueue.close();
  await deletePrefix(prefix);
  const r = summarize(raw);
  const o = summarize(ours);
  const ratio = o.p99 / r.p99;
  return [
    `enqueue → worker start, ${count} jobs each at up to ${RATE}/s`,
    row('raw BullMQ add → process', `p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`, 'reference', true),
    row('k8s-chatops enqueue → verb run', `p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  max ${ms(o.max)}`, '—', true),
    row('ratio p99 ours / raw', `${ratio.toFixed(2)}×`, '≤ 1.5×', ratio <= 1.5),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchEnqueue()) console.log(line);
  process.exit(0);
}
