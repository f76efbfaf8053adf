/**
 * k8s-chatops's command worker (startCommandWorker, as the worker role runs it) in a process of
 * its own, with one no-op verb, for the enqueue bench. The verb's run() takes the start time
 * first, then prints `started <i> <t>`, t on the clock every process on the machine shares
 * (performance.timeOrigin + performance.now()). Prints "ready" once it listens; stops on SIGTERM.
 *   npx tsx bench/procs/our-worker.ts <redis url> <prefix> <signing key>
 */
import { z } from 'zod';
import type { WebClient } from '@slack/web-api';
import { createRedis } from '../../src/queue/redis.js';
import { createCommandQueue } from '../../src/queue/commands.js';
import { startCommandWorker } from '../../src/worker/index.js';
import { defineVerb, type Verb } from '../../src/command/types.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Clusters } from '../../src/kube/clusters.js';
import { AuditLog } from '../../src/audit/index.js';
import { IntentStore } from '../../src/command/intents.js';
import { Signer } from '../../src/security/signing.js';
import { ApprovalStore } from '../../src/approvals/store.js';
import { TargetLocks, targetLeaseMs } from '../../src/queue/target-lock.js';
import { CommandJobs } from '../../src/queue/command-jobs.js';

const [redisUrl, prefix, signingKey] = process.argv.slice(2);
if (!redisUrl || !prefix || !signingKey) throw new Error('usage: our-worker.ts <redis url> <prefix> <signing key>');

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
    const t = performance.timeOrigin + performance.now();
    process.stdout.write(`started ${ctx.args.i} ${t}\n`);
  },
});
const verbs = new Map<string, Verb>([['noop', noop]]);
const config = parseConfig(
  'environments: { beta: { namespace: beta } }\nchannels: { C0BENCH: { environments: [beta], commands: ["*"] } }',
  'bench.yaml',
);
const redis = createRedis(redisUrl, 'producer');
const signer = new Signer({ current: signingKey });
const queue = createCommandQueue(redis, prefix);
const locks = new TargetLocks(redis, prefix, targetLeaseMs());
// No Slack client: the no-op verb posts nothing, so nothing may try to reach a Slack server.
const slack = {} as WebClient;
const worker = startCommandWorker({
  config,
  verbs,
  clusters: {} as Clusters,
  slack,
  members: { isMember: async () => true },
  log: createLogger('silent'),
  connection: createRedis(redisUrl, 'worker'),
  prefix,
  services: {
    queue,
    audit: new AuditLog(redis, prefix, createLogger('silent')),
    intents: new IntentStore(redis, prefix, signer),
    approvals: new ApprovalStore(redis, prefix, signer),
    slack,
    redis,
    prefix,
    signer,
    locks,
    jobs: new CommandJobs(queue, locks),
  },
  expiryQueue: queue,
});
await worker.worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker
    .close(1_000)
    .then(() => queue.close())
    .then(() => process.exit(0));
});
