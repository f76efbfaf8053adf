/**
 * Ack latency of /k8s, measured honestly: four processes, so no app's latency includes
 * another's work —
 *   1. the Slack and Kubernetes emulators (bench/procs/emulators.ts);
 *   2. a bare Bolt app that only acks (bench/procs/bare-bolt.ts), the reference;
 *   3. k8s-chatops as `npm start` runs it: every role (app, worker, alerts) in one process;
 *   4. this process: the load generator only, sending the same command to both apps on one
 *      schedule (RATE/s each, open loop), so whatever else the machine does hits both alike.
 * Target (DESIGN.md): our p99 ≤ 3× bare Bolt's p99.
 * Run: npm run build && BENCH_SECONDS=30 npx tsx bench/ack.ts   (REDIS_URL as for tests)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/harness.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import { freePort } from '../test/support/redis-server.js';
import { postSlashCommand } from '../test/support/slack/index.js';
import { atRate, benchSeconds, ms, row, summarize } from './lib.js';
import { healthy, start, type Child } from './procs/spawn.js';

const RATE = Number(process.env.BENCH_ACK_RATE ?? 100);
const TSX = ['npx', 'tsx'];

export async function benchAck(seconds = benchSeconds(30)): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ack-'));
  const prefix = freshPrefix('bench-ack');
  const children: Child[] = [];
  try {
    const emulators = start([...TSX, 'bench/procs/emulators.ts', dir], process.env, 'emulators');
    children.push(emulators);
    const { slackUrl, config } = JSON.parse(await emulators.line(/^\{/)) as { slackUrl: string; config: string };

    const barePort = await freePort();
    const bare = start([...TSX, 'bench/procs/bare-bolt.ts', String(barePort), slackUrl], process.env, 'bare Bolt');
    children.push(bare);
    await bare.line(/^ready/);

    const ourPort = await freePort();
    const ours = start(
      ['npm', 'start', '--silent'],
      {
        ...process.env,
        PORT: String(ourPort),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slackUrl,
        REDIS_URL: TEST_REDIS_URL,
        CHATOPS_CONFIG: config,
        CHATOPS_QUEUE_PREFIX: prefix,
        CHATOPS_SIGNING_KEY: process.env.CHATOPS_SIGNING_KEY ?? 'bench-signing-key-bench-signing-key',
        LOG_LEVEL: 'warn',
      },
      'k8s-chatops',
    );
    children.push(ours);
    await healthy(`http://127.0.0.1:${ourPort}/healthz`);

    const bareUrl = `http://127.0.0.1:${barePort}/slack/events`;
    const ourUrl = `http://127.0.0.1:${ourPort}/slack/events`;
    const send = async (url: string, i: number, tag: string) => {
      const res = await postSlashCommand(url, SIGNING_SECRET, {
        text: 'status myapp beta',
        channel_id: 'C0DEVTEAM',
        user_id: 'U0DEV',
        trigger_id: `bench-${tag}-${i}-${Date.now()}`,
      });
      if (res.status !== 200) throw new Error(`${tag} answered ${res.status}`);
      return res.ms;
    };
    // Warm-up (JIT, connections), not measured.
    await atRate(RATE, 1, async (i) => Math.max(await send(bareUrl, i, 'warm-b'), await send(ourUrl, i, 'warm-o')));
    const bareTimes: number[] = [];
    const ourTimes: number[] = [];
    await atRate(RATE, seconds, async (i) => {
      const [b, o] = await Promise.all([send(bareUrl, i, 'b'), send(ourUrl, i, 'o')]);
      bareTimes.push(b);
      ourTimes.push(o);
      return o;
    });
    const b = summarize(bareTimes);
    const o = summarize(ourTimes);
    const ratio = o.p99 / b.p99;
    return [
      `ack latency at ${RATE} commands/s to each app, for ${seconds}s (n=${o.n} each); each app in its own process, load from a third`,
      row('bare Bolt app (own process)', `p50 ${ms(b.p50)}  p99 ${ms(b.p99)}  max ${ms(b.max)}`, 'reference', true),
      row('k8s-chatops, npm start, all roles', `p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  max ${ms(o.max)}`, '—', true),
      row('ratio p99 ours / bare', `${ratio.toFixed(2)}×`, '≤ 3×', ratio <= 3),
      row('ratio p50 ours / bare', `${(o.p50 / b.p50).toFixed(2)}×`, '—', true),
    ];
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await deletePrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchAck()) console.log(line);
}
