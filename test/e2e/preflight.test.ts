/**
 * The first ten minutes: each dependency that is not ready is one plain sentence
 * (Slack token, Redis, clusters), and a Redis outage is one warning plus a summary
 * every interval, not a line per reconnect attempt.
 */
import { EventEmitter, once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { checkRedis, checkSlackToken, PLACEHOLDER_BOT_TOKEN } from '../../src/preflight/index.js';
import { createRedis } from '../../src/queue/redis.js';
import { watchRedisOutage } from '../../src/queue/outage.js';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';
import { freePort, startPrivateRedis } from '../support/redis-server.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';

let slack: SlackEmulator;
let kube: KubeEmulator;
let dir: string;
beforeAll(async () => {
  [slack, kube, dir] = await Promise.all([
    startSlackEmulator({ botToken: 'xoxb-good' }),
    startKubeEmulator({ namespaces: ['default', 'beta'] }),
    mkdtemp(join(tmpdir(), 'preflight-')),
  ]);
});
afterAll(async () => {
  await slack?.close();
  await kube?.close();
});

function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const events = new EventEmitter();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as { level: number; msg: string };
        lines.push(parsed);
        events.emit('line', parsed);
      }
      done();
    },
  });
  const next = (pred: (l: { msg: string }) => boolean, ms = 5_000) =>
    new Promise<{ msg: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line; got ${JSON.stringify(lines)}`)), ms);
      const on = (l: { msg: string }) => {
        if (!pred(l)) return;
        clearTimeout(timer);
        events.off('line', on);
        resolve(l);
      };
      events.on('line', on);
    });
  return { log: pino({ level: 'info' }, stream), lines, next };
}

describe('the Slack token', () => {
  it('says the .env.example placeholder is still there, without asking Slack', async () => {
    const before = slack.calls.length;
    const finding = await checkSlackToken(PLACEHOLDER_BOT_TOKEN, slack.url);
    expect(finding).toMatchObject({ ok: false, fatal: true });
    expect(finding.sentence).toMatch(/^SLACK_BOT_TOKEN is still the placeholder from \.env\.example/);
    expect(slack.calls.length).toBe(before);
  });

  it('says Slack rejected a wrong token, in one sentence', async () => {
    const finding = await checkSlackToken('xoxb-wrong', slack.url);
    expect(finding).toMatchObject({ ok: false, fatal: true });
    expect(finding.sentence).toMatch(/^Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)/);
    expect(finding.sentence).not.toMatch(/\n|at .*\.js/);
  });

  it('accepts the right one', async () => {
    await expect(checkSlackToken('xoxb-good', slack.url)).resolves.toMatchObject({ ok: true });
  });
});

describe('Redis', () => {
  it('says where Redis was expected and how to start one', async () => {
    const port = await freePort();
    const finding = await checkRedis(`redis://127.0.0.1:${port}`);
    expect(finding.ok).toBe(false);
    expect(finding.sentence).toBe(
      `Redis at 127.0.0.1:${port} is unreachable (ECONNREFUSED). Start one with \`docker run -d -p 6379:6379 redis:7\` (or \`sudo apt-get install redis-server\`), or set REDIS_URL.`,
    );
    await expect(checkRedis(TEST_REDIS_URL)).resolves.toMatchObject({ ok: true });
  });

  it('while down: one warning, then a summary per interval, then one line when back', async () => {
    const redis = await startPrivateRedis();
    const producer = createRedis(redis.url, 'producer');
    await once(producer, 'ready');
    const { log, lines, next } = capturingLogger();
    const outage = watchRedisOutage(producer, redis.url, log, 300);
    const worker = createRedis(redis.url, 'worker');
    worker.on('error', outage.error('worker connection'));
    try {
      const warned = next((l) => l.msg.includes('is unreachable'));
      await redis.stop();
      expect((await warned).msg).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${redis.port} is unreachable \\(`));
      await next((l) => l.msg.includes('still unreachable'));
      await next((l) => l.msg.includes('still unreachable'));
      const back = next((l) => l.msg.includes('is back'));
      await redis.start();
      await back;
      // Dozens of reconnect attempts by two connections, and only these lines.
      expect(lines.filter((l) => l.msg.includes('is unreachable'))).toHaveLength(1);
      expect(lines.every((l) => /is unreachable|still unreachable|is back/.test(l.msg))).toBe(true);
    } finally {
      outage.stop();
      producer.disconnect();
      worker.disconnect();
      await redis.stop();
    }
  });
});

describe('npm run check', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    let out = '';
    let err = '';
    const code = await runCli(argv, { env, stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
    return { code, out, err };
  };

  it('reports an unreachable cluster once, not as missing permissions', async () => {
    const port = await freePort();
    const kubeconfig = join(dir, 'dead-kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{ name: dead, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: dead, context: { cluster: dead, user: u } }]\ncurrent-context: dead\n`,
    );
    const config = join(dir, 'dead.yaml');
    await writeFile(
      config,
      `clusters: { default: { context: dead, kubeconfig: ${kubeconfig} } }\nenvironments: { beta: { cluster: default, namespace: beta } }\napps: {}\nchannels: {}\n`,
    );
    const res = await run(['check', '--config', config], {
      SLACK_BOT_TOKEN: 'xoxb-good',
      SLACK_API_URL: slack.url,
      REDIS_URL: TEST_REDIS_URL,
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain(`NOT OK: cluster default: the API server at https://127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
    expect(res.out).not.toMatch(/MISSING/);
    expect(res.out).toMatch(/^Slack: the bot token is accepted/);
  });

  it('passes against a reachable cluster, and says a placeholder token is one', async () => {
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
    const config = join(dir, 'ok.yaml');
    await writeFile(
      config,
      `clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }\nenvironments: { beta: { cluster: default, namespace: beta } }\napps: {}\nchannels: {}\n`,
    );
    const good = await run(['check', '--config', config], {
      SLACK_BOT_TOKEN: 'xoxb-good',
      SLACK_API_URL: slack.url,
      REDIS_URL: TEST_REDIS_URL,
    });
    expect(good.out).not.toMatch(/cannot be reached|NOT OK/);
    const placeholder = await run(['check', '--config', config], { SLACK_BOT_TOKEN: PLACEHOLDER_BOT_TOKEN, REDIS_URL: TEST_REDIS_URL });
    expect(placeholder.code).toBe(1);
    expect(placeholder.out).toMatch(/^SLACK_BOT_TOKEN is still the placeholder/);
  });

  it('prints usage for --help', async () => {
    const res = await run(['--help'], {});
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/usage: npm start/);
    expect(res.out).toMatch(/k8s-chatops check/);
  });
});
