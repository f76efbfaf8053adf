import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';
import { startSlackEmulator, postSlashCommand, type SlackEmulator } from '../support/slack/index.js';
import { botEnv, startBot, type BotProcess } from '../support/bot-process.js';
import { E2E_CONFIG, SIGNING_SECRET, BOT_TOKEN } from '../support/harness.js';
import { deletePrefix, freshPrefix } from '../support/redis.js';

let kube: KubeEmulator;
let slack: SlackEmulator;
let bot: BotProcess | undefined;
const prefix = freshPrefix('shutdown');

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
});
afterAll(async () => {
  await bot?.stop('SIGKILL');
  await slack?.close();
  await kube?.close();
  await deletePrefix(prefix);
});

/** Each test starts the bot from source (tsx compiles it) once or twice: on a loaded 2-core CI machine that alone takes seconds. */
const PROCESS_TEST_MS = 90_000;
/** A wait on the bot in another process: its start and its first job include that compile. */
const PROCESS_WAIT_MS = 30_000;

describe('a worker killed mid-deploy (SIGKILL)', () => {
  it(
    'is taken over by another worker: the deploy finishes once, in the same thread, without a second rollout',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chatops-kill-'));
      const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
      const configFile = join(dir, 'chatops.yaml');
      await writeFile(configFile, E2E_CONFIG(kubeconfig).replace('progressDeadlineSeconds: 3', 'progressDeadlineSeconds: 30'));
      kube.setImageBehavior('registry.example.com/team/myapp:killed', { kind: 'slowReady', readyAfterMs: 4_000 });
      const env = { ...botEnv({ slackUrl: slack.url, configFile, prefix: `${prefix}-kill` }), CHATOPS_JOB_LOCK_MS: '1500' };
      bot = await startBot(env);
      await postSlashCommand(bot.eventsUrl, SIGNING_SECRET, {
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
      await bot.stop('SIGKILL');

      bot = await startBot({ ...env, CHATOPS_ROLE: 'worker' });
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
      await bot.stop('SIGTERM');
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
      bot = await startBot(botEnv({ slackUrl: slack.url, configFile, prefix }));
      const events = bot.eventsUrl;
      const ack = await postSlashCommand(events, SIGNING_SECRET, {
        text: 'deploy myapp beta slow',
        channel_id: 'C0DEVTEAM',
        user_id: 'U0DEV',
        response_url: slack.newResponseUrl(),
      });
      expect(ack.json.text).toContain('Queued');
      await slack.waitForCall((c) => c.method === 'chat.postMessage' && /applied to beta/.test(c.args.text), PROCESS_WAIT_MS);

      expect(await bot.stop('SIGTERM')).toBe(0);
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
