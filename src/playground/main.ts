/**
 * `npm run playground`: the whole product in a browser page, with no Slack
 * workspace and no cluster. Starts the Kubernetes and Slack emulators of
 * test/support, the bot with every role against them, and the page.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeEmulator, type KubeEmulator } from '../../test/support/kube/index.js';
import { startSlackEmulator, type SlackEmulator } from '../../test/support/slack/index.js';
import { deletePrefix } from '../../test/support/redis.js';
import { loadSettings } from '../config/settings.js';
import { createLogger } from '../log.js';
import { startChatOps, type ChatOps } from '../runtime.js';
import { findRedis, type PlaygroundRedis } from './redis.js';
import { startPlaygroundServer, type PlaygroundServer } from './server.js';
import { CHANNELS, playgroundConfig, USERS } from './workspace.js';

export interface Playground {
  url: string;
  botUrl: string;
  slack: SlackEmulator;
  kube: KubeEmulator;
  chatops: ChatOps;
  redis: PlaygroundRedis;
  stop(): Promise<void>;
}

export interface PlaygroundOptions {
  /** Port of the page (default 3100; a free one if taken; 0 = any). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
}

const SIGNING_SECRET = 'playground-signing-secret';
const BOT_TOKEN = 'xoxb-playground';

export async function startPlayground(opts: PlaygroundOptions = {}): Promise<Playground> {
  const env = opts.env ?? process.env;
  const redis = await findRedis(env);
  const cleanups: Array<() => Promise<void>> = [() => redis.stop()];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), 'chatops-playground-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
    cleanups.push(() => kube.close());
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['playground']);
    const slack = await startSlackEmulator({ botToken: BOT_TOKEN });
    cleanups.push(() => slack.close());
    for (const u of USERS) slack.users.set(u.id, { id: u.id, name: u.name, real_name: `${u.name} (${u.role})` });
    for (const c of CHANNELS) slack.channels.set(c.id, { name: c.name });
    const configFile = join(dir, 'chatops.yaml');
    await writeFile(configFile, playgroundConfig(kubeconfig));
    // A fresh key prefix: a shared Redis keeps other runs' state apart, and it is deleted at the end.
    const prefix = `{playground-${randomBytes(4).toString('hex')}}`; // a hash tag, as the bot uses it
    cleanups.push(() => deletePrefix(prefix, redis.url));
    const settingsEnv = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      PORT: '0',
      REDIS_URL: redis.url,
      CHATOPS_CONFIG: configFile,
      CHATOPS_QUEUE_PREFIX: prefix,
      // Jobs are signed with this key (see the worker); the playground makes its own.
      CHATOPS_SIGNING_KEY: env.CHATOPS_SIGNING_KEY ?? randomBytes(32).toString('hex'),
    };
    process.env.CHATOPS_SIGNING_KEY ??= settingsEnv.CHATOPS_SIGNING_KEY;
    const settings = loadSettings(settingsEnv);
    const log = createLogger(opts.logLevel ?? env.LOG_LEVEL ?? 'error');
    const chatops = await startChatOps(settings, log);
    cleanups.push(() => chatops.stop());
    const botUrl = `http://127.0.0.1:${chatops.port}`;
    const server: PlaygroundServer = await startPlaygroundServer({
      slack,
      kube,
      eventsUrl: `${botUrl}/slack/events`,
      signingSecret: SIGNING_SECRET,
      port: opts.port ?? Number(env.PLAYGROUND_PORT ?? 3100),
    });
    cleanups.push(() => server.close());
    return { url: server.url, botUrl, slack, kube, chatops, redis, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
