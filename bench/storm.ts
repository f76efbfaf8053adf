/**
 * Alerts under a sustained OOM storm (issue 9 §7), measured honestly: two processes, so the
 * bot's work never shares a CPU queue with the load —
 *   1. the emulators, the kills and the judge (bench/procs/storm.ts): KILLS OOM kills spread evenly
 *      over SECONDS across 10 Deployments of 2 pods, each container running again right after each
 *      kill, against a channel limited like Slack's (1 msg/s, 429 beyond a burst of 3);
 *   2. k8s-chatops as `npm start` runs it, alerts role only (compiled first).
 * Asserted and printed: one top-level message per workload, every workload named, counts equal to
 * kills, no recovery while kills continue, ≤ 1 post/s in the channel.
 * Run: BENCH_STORM_KILLS=1000 BENCH_STORM_SECONDS=10 npx tsx bench/storm.ts   (REDIS_URL as for tests)
 *   BENCH_STORM_RECOVER_MS: the rule's recoverAfter (default 2000); BENCH_STORM_WAIT: seconds to wait
 *   after the storm for every message to count and recover (default 60).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/harness.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import { row } from './lib.js';
// Types only: importing a value would run the load process's top level here.
import type { StormReport } from './procs/storm.js';
import { start, type Child } from './procs/spawn.js';

const TSX = ['npx', 'tsx'];
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** `npm run build` (tsc), so `npm start` runs today's code. */
async function build(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const code = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
      stdio: 'inherit',
    }).once('exit', resolve),
  );
  if (code !== 0) throw new Error(`the build failed (tsc exited with ${code})`);
}

/** Runs one storm: the load and emulators in one process, the bot in another; resolves with the load's report. */
export async function runStorm(kills: number, seconds: number, recoverAfterMs: number, waitSeconds: number): Promise<StormReport> {
  await build();
  const dir = await mkdtemp(join(tmpdir(), 'bench-storm-'));
  const prefix = freshPrefix('bench-storm');
  const children: Child[] = [];
  try {
    const load = start(
      [...TSX, 'bench/procs/storm.ts', dir, String(kills), String(seconds), String(recoverAfterMs), String(waitSeconds)],
      process.env,
      'storm load',
    );
    children.push(load);
    const { slackUrl, config } = JSON.parse(await load.line(/^\{"slackUrl/)) as { slackUrl: string; config: string };
    const bot = start(
      ['npm', 'start', '--silent'],
      {
        ...process.env,
        CHATOPS_ROLE: 'alerts',
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slackUrl,
        REDIS_URL: TEST_REDIS_URL,
        CHATOPS_CONFIG: config,
        CHATOPS_QUEUE_PREFIX: prefix,
        CHATOPS_SIGNING_KEY: process.env.CHATOPS_SIGNING_KEY ?? 'bench-signing-key-bench-signing-key',
        LOG_LEVEL: 'warn',
      },
      'k8s-chatops (alerts role)',
    );
    children.push(bot);
    const timeout = 180_000 + (seconds + waitSeconds) * 1_000 * 2;
    return JSON.parse(await load.line(/^\{"kills/, timeout)) as StormReport;
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    await deletePrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report as bench rows, each beside what issue 9 §7 requires. */
export function stormRows(r: StormReport, seconds: number): string[] {
  const apps = Object.keys(r.killsPerApp).sort();
  const wrongTop = apps.filter((a) => r.topPerApp[a] !== 1);
  const wrongCount = apps.filter((a) => r.countedPerApp[a] !== r.killsPerApp[a]);
  const counted = Object.values(r.countedPerApp).reduce((a, b) => a + b, 0);
  return [
    `sustained OOM storm: ${r.kills} kills over ${(r.stormMs / 1000).toFixed(1)} s (asked ${seconds} s) across ${apps.length} deployments × 2 pods, ` +
      `each restarted 20 ms after its kill; load and emulators in one process, the bot (npm start, alerts role) in another`,
    row(
      'top-level messages (one per workload)',
      `${r.topLevel} for ${apps.length} workloads`,
      `${apps.length}, 1 each`,
      wrongTop.length === 0 && r.topLevel === apps.length,
    ),
    row(
      'workloads named',
      `${apps.length - apps.filter((a) => !r.topPerApp[a]).length} of ${apps.length}; unnamed messages ${r.unnamed}`,
      'all, 0 unnamed',
      apps.every((a) => r.topPerApp[a]) && r.unnamed === 0,
    ),
    row(
      'kills counted',
      `${counted} of ${r.kills}; workloads off: ${wrongCount.join(', ') || 'none'}`,
      'each = its kills',
      wrongCount.length === 0 && counted === r.kills,
    ),
    row(
      'recovered while kills continued',
      `${r.earlyRecoveries.length}${r.earlyRecoveries.length ? ` (${r.earlyRecoveries.slice(0, 3).join('; ')})` : ''}`,
      '0',
      r.earlyRecoveries.length === 0,
    ),
    row(
      'all counted and recovered',
      r.settled ? `${(r.settledMs / 1000).toFixed(1)} s after the last kill` : `NOT within ${(r.settledMs / 1000).toFixed(0)} s`,
      'yes',
      r.settled,
    ),
    row(
      'posts / 429s / max in 1 s / pairs too close',
      `${r.posts} / ${r.rateLimited} / ${r.busiestSecond} / ${r.tooClose}; min gap ${r.minGapMs} ms`,
      '≤ 1 post/s, 0 × 429',
      r.rateLimited === 0 && r.tooClose === 0,
    ),
    row('chat.update calls', String(r.updates), '—', true),
  ];
}

/** The storm at the size the environment asks (default 1,000 kills over 10 s). */
export async function benchStorm(): Promise<string[]> {
  const kills = num('BENCH_STORM_KILLS', 1_000);
  const seconds = num('BENCH_STORM_SECONDS', 10);
  const report = await runStorm(kills, seconds, num('BENCH_STORM_RECOVER_MS', 2_000), num('BENCH_STORM_WAIT', 60));
  return stormRows(report, seconds);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchStorm()) console.log(line);
  process.exit(0);
}
