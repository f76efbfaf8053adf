/**
 * A raw BullMQ worker in a process of its own: the reference the enqueue bench compares our
 * worker with. Its processor takes the start time first, then prints `started <i> <t>`, t on
 * the clock every process on the machine shares (performance.timeOrigin + performance.now()).
 * Prints "ready" once it listens; stops on SIGTERM.
 *   npx tsx bench/procs/raw-worker.ts <redis url> <prefix>
 */
import { Worker } from 'bullmq';
import { createRedis } from '../../src/queue/redis.js';

const [redisUrl, prefix] = process.argv.slice(2);
if (!redisUrl || !prefix) throw new Error('usage: raw-worker.ts <redis url> <prefix>');
const worker = new Worker(
  'raw',
  async (job) => {
    const t = performance.timeOrigin + performance.now();
    process.stdout.write(`started ${(job.data as { i: number }).i} ${t}\n`);
  },
  { connection: createRedis(redisUrl, 'worker'), prefix, concurrency: 10 },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
