import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';
import { startSlackEmulator, postSlashCommand, type SlackEmulator } from '../support/slack/index.js';
import { E2E_CONFIG, SIGNING_SECRET, BOT_TOKEN } from '../support/harness.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, TEST_SIGNING_KEY } from '../support/redis.js';

let kube: KubeEmulator;
let slack: SlackEmulator;
let bot: ChildProcess | undefined;
const prefix = freshPrefix('shutdown');

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
});
afterAll(async () => {
  bot?.kill('SIGKILL');
  await slack?.close();
  await kube?.close();
  await deletePrefix(prefix);
});

/** Each test starts the bot from source (tsx compiles it) once or twice: on a loaded 2-core CI machine that alone takes seconds. */
const PROCESS_TEST_MS = 90_000;
/** A wait on the bot in another process: its start and its first job include that compile. */
const PROCESS_WAIT_MS = 30_000;

/** Starts `src/main.ts` as its own process, as `npm start` would (minus the build). */
async function startBot(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  // Port 0: the bot binds a port of its own and logs it (a port picked here could be taken before the bot binds it).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const started = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('k8s-chatops started'));
      if (started) resolve((JSON.parse(started) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`bot exited with ${code}: ${out.slice(-2000)}`)));
  });
  return { child, port };
}

describe('a worker killed mid-deploy (SIGKILL)', () => {
  it(
    'is taken over by another worker: the deploy finishes once, in the same thread, without a second rollout',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chatops-kill-'));
      const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
      const configFile = join(dir, 'chatops.yaml');
      await writeFile(configFile, E2E_CONFIG(kubeconfig).replace('progressDeadlineSeconds: 3', 'progressDeadlineSeconds: 30'));
      kube.setImageBehavior('registry.example.com/team/myapp:killed', { kind: 'slowReady', readyAfterMs: 4_000 });
      const env = {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.url,
        REDIS_URL: TEST_REDIS_URL,
        CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
        CHATOPS_CONFIG: configFile,
        CHATOPS_QUEUE_PREFIX: `${prefix}-kill`,
        CHATOPS_JOB_LOCK_MS: '1500',
      };
      const first = await startBot(env);
      bot = first.child;
      const events = `http://127.0.0.1:${first.port}/slack/events`;
      await postSlashCommand(events, SIGNING_SECRET, {
        text: 'deploy myapp beta killed',
        channel_id: 'C0OPS',
        user_id: 'U0DEV',
        response_url: slack.newResponseUrl(),
      });
      const applied = await slack.waitForCall(
        (c) => c.method === 'chat.postMessage' && /applied to beta: .*myapp:killed/.test(c.args.text),
        PROCESS_WAIT_MS,
      );
      const generation = kube.get('apps/v1', 'Deployment', 'beta', 'myapp').metadata.generation;
      const exited = once(bot, 'exit');
      bot.kill('SIGKILL');
      await exited;

      const second = await startBot({ ...env, CHATOPS_ROLE: 'worker' });
      bot = second.child;
      const done = await slack.waitForCall(
        (c) => c.method === 'chat.update' && /deploy myapp killed → beta — done/.test(c.args.text),
        PROCESS_WAIT_MS,
      );
      expect(done.args.ts).toBe(applied.args.thread_ts);
      expect(
        slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && /deploy myapp killed → beta/.test(c.args.text)),
      ).toHaveLength(1);
      expect(slack.thread('C0OPS', done.args.ts).some((m) => /re-applied .*myapp:killed \(retry of this job\)/.test(m.text))).toBe(true);
      expect(kube.get('apps/v1', 'Deployment', 'beta', 'myapp').metadata.generation).toBe(generation);
      const exitedSecond = once(bot, 'exit');
      bot.kill('SIGTERM');
      await exitedSecond;
    },
    PROCESS_TEST_MS,
  );
});

describe('SIGTERM', () => {
  it(
    'stops taking commands, lets the running deploy finish once, and exits cleanly',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chatops-shutdown-'));
      const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
      const configFile = join(dir, 'chatops.yaml');
      await writeFile(configFile, E2E_CONFIG(kubeconfig));
      kube.setImageBehavior('registry.example.com/team/myapp:slow', { kind: 'slowReady', readyAfterMs: 1_500 });
      const started = await startBot({
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.url,
        REDIS_URL: TEST_REDIS_URL,
        CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
        CHATOPS_CONFIG: configFile,
        CHATOPS_QUEUE_PREFIX: prefix,
      });
      bot = started.child;
      const events = `http://127.0.0.1:${started.port}/slack/events`;
      const ack = await postSlashCommand(events, SIGNING_SECRET, {
        text: 'deploy myapp beta slow',
        channel_id: 'C0DEVTEAM',
        user_id: 'U0DEV',
        response_url: slack.newResponseUrl(),
      });
      expect(ack.json.text).toContain('Queued');
      await slack.waitForCall((c) => c.method === 'chat.postMessage' && /applied to beta/.test(c.args.text), PROCESS_WAIT_MS);

      const exited = once(bot, 'exit');
      bot.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      const done = slack.calls.filter((c) => c.method === 'chat.update' && /deploy myapp slow → beta — done/.test(c.args.text));
      expect(done).toHaveLength(1);
      expect(
        slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && /deploy myapp slow → beta/.test(c.args.text)),
      ).toHaveLength(1);
      expect(kube.get('apps/v1', 'Deployment', 'beta', 'myapp').status.availableReplicas).toBe(2);
      await expect(
        postSlashCommand(events, SIGNING_SECRET, { text: 'status beta', channel_id: 'C0DEVTEAM', user_id: 'U0DEV' }),
      ).rejects.toThrow();
    },
    PROCESS_TEST_MS,
  );
});
