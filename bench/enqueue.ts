/**
 * Enqueue → worker start latency through our queue and worker, beside a raw BullMQ
 * add → process round trip on the same Redis in the same run. Three processes, so neither
 * side's latency includes the other's work or the load generator's:
 *   1. a raw BullMQ Worker (bench/procs/raw-worker.ts), the reference;
 *   2. our worker: startCommandWorker with a no-op verb (bench/procs/our-worker.ts);
 *   3. this process: adds the jobs only — one raw, one ours, alternating — and collects the starts.
 * Each worker takes its start time first and reports it after (one stdout line per job), on the
 * clock all processes share: performance.timeOrigin + performance.now().
 * Target (DESIGN.md): our p99 ≤ 1.5× raw p99.  Run: npx tsx bench/enqueue.ts
 */
import { Queue } from 'bullmq';
import { createRedis } from '../src/queue/redis.js';
import { createCommandQueue, enqueueCommand } from '../src/queue/commands.js';
import { Signer } from '../src/security/signing.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import { benchSeconds, ms, row, summarize } from './lib.js';
import { start, type Child } from './procs/spawn.js';

const RATE = 100;
const TSX = ['npx', 'tsx'];
const SIGNING_KEY = 'bench-signing-key-0123456789abcdef012345';

/** Now, on the clock every process on this machine shares. */
const now = () => performance.timeOrigin + performance.now();

/** Adds `count` jobs one after another (at most RATE/s) and returns add → processor-start latencies. */
async function measure(first: number, count: number, add: (i: number) => Promise<void>, worker: Child): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = first; i < first + count; i++) {
    const sent = now();
    await add(i);
    const line = await worker.line(new RegExp(`^started ${i} `), 30_000);
    latencies.push(Number(line.split(' ')[2]) - sent);
    await new Promise((r) => setTimeout(r, 1_000 / RATE));
  }
  return latencies;
}

export async function benchEnqueue(seconds = benchSeconds(10)): Promise<string[]> {
  const count = Math.round(RATE * seconds);
  const prefix = freshPrefix('bench-enqueue');
  const children: Child[] = [];
  const rawQueue = new Queue('raw', { connection: createRedis(TEST_REDIS_URL, 'producer'), prefix });
  const ourQueue = createCommandQueue(createRedis(TEST_REDIS_URL, 'producer'), prefix);
  const signer = new Signer({ current: SIGNING_KEY });
  try {
    const rawWorker = start([...TSX, 'bench/procs/raw-worker.ts', TEST_REDIS_URL, prefix], process.env, 'raw BullMQ worker');
    children.push(rawWorker);
    const ourWorker = start([...TSX, 'bench/procs/our-worker.ts', TEST_REDIS_URL, prefix, SIGNING_KEY], process.env, 'our worker');
    children.push(ourWorker);
    await Promise.all([rawWorker.line(/^ready$/), ourWorker.line(/^ready$/)]);

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
    await measure(0, 50, addRaw, rawWorker);
    await measure(1_000, 50, addOurs, ourWorker);
    const raw: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < count; i++) {
      raw.push(...(await measure(10_000 + i, 1, addRaw, rawWorker)));
      ours.push(...(await measure(10_000 + i, 1, addOurs, ourWorker)));
    }

    const r = summarize(raw);
    const o = summarize(ours);
    const ratio = o.p99 / r.p99;
    return [
      `enqueue → worker start, ${count} jobs each at up to ${RATE}/s; each worker in its own process, jobs added from a third`,
      row('raw BullMQ add → process', `p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`, 'reference', true),
      row('k8s-chatops enqueue → verb run', `p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  max ${ms(o.max)}`, '—', true),
      row('ratio p99 ours / raw', `${ratio.toFixed(2)}×`, '≤ 1.5×', ratio <= 1.5),
    ];
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await rawQueue.close();
    await ourQueue.close();
    await deletePrefix(prefix);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchEnqueue()) console.log(line);
  process.exit(0);
}
