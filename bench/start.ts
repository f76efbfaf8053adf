/**
 * `npm start` on an unchanged tree → first 200 from /healthz (DESIGN target ≤ 3 s).
 * The bot runs as its own process, exactly as a user starts it (npm start, prestart
 * included), against the Slack and Kubernetes emulators in this process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKubeEmulator } from '../test/support/kube/index.js';
import { freePort } from '../test/support/redis-server.js';
import { startSlackEmulator } from '../test/support/slack/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import { E2E_CONFIG } from '../test/support/harness.js';

async function once(base: NodeJS.ProcessEnv, command: string[]): Promise<number> {
  // A fresh port per run: a previous run still shutting down cannot answer for this one.
  const port = await freePort();
  const env = { ...base, PORT: String(port) };
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 20));
      if (performance.now() - started > 120_000) throw new Error('no /healthz within 120 s');
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function benchStart(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-start-'));
  const kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
  const slack = await startSlackEmulator({ botToken: 'xoxb-bench' });
  const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
  const config = join(dir, 'chatops.yaml');
  await writeFile(config, E2E_CONFIG(kubeconfig));
  const prefix = freshPrefix('bench-start');
  const env = {
    ...process.env,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: 'bench',
    SLACK_API_URL: slack.url,
    REDIS_URL: TEST_REDIS_URL,
    CHATOPS_CONFIG: config,
    CHATOPS_QUEUE_PREFIX: prefix,
    CHATOPS_SIGNING_KEY: process.env.CHATOPS_SIGNING_KEY ?? 'bench-signing-key-bench-signing-key',
    LOG_LEVEL: 'warn',
  };
  try {
    const npmStart = ['npm', 'start', '--silent'];
    const first = await once(env, npmStart); // builds if the tree changed since the last build
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await once(env, npmStart));
    const bare: number[] = [];
    for (let i = 0; i < 3; i++) bare.push(await once(env, [process.execPath, '--enable-source-maps', 'dist/src/main.js']));
    const s = (ms: number[]) =>
      `${ms.map((r) => (r / 1000).toFixed(2)).join(' s, ')} s (median ${(ms.sort((a, b) => a - b)[1]! / 1000).toFixed(2)} s)`;
    return [
      `first start (builds if sources changed): ${(first / 1000).toFixed(2)} s`,
      `unchanged tree, npm start → /healthz: ${s(runs)}; target ≤ 3 s`,
      `for comparison, node dist/src/main.js → /healthz: ${s(bare)}`,
    ];
  } finally {
    await slack.close();
    await kube.close();
    await deletePrefix(prefix);
  }
}
