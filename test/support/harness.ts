import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeEmulator, type KubeEmulator } from './kube/index.js';
import { startSlackEmulator, postSlashCommand, postBlockAction, type SlackEmulator } from './slack/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, TEST_SIGNING_KEY } from './redis.js';
export { TEST_SIGNING_KEY } from './redis.js';
import { startChatOps, type ChatOps } from '../../src/runtime.js';
import { loadSettings, type Role } from '../../src/config/settings.js';
import { createLogger, type Logger } from '../../src/log.js';
import { flows, type Flows } from './flows.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token';

/** A config in which beta is open to the dev channel and prod is the ops channel's. */
export const E2E_CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod, promoteFrom: beta }
apps:
  myapp:
    image: registry.example.com/team/myapp
    defaultTag: latest
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 3
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
    env: { LOG_LEVEL: info }
    environments: { prod: { replicas: 3 } }
  hungry:
    image: registry.example.com/team/hungry
    replicas: 1
    progressDeadlineSeconds: 2
    resources: { requests: { cpu: 100m, memory: 64Gi } }
channels:
  C0DEVTEAM: { environments: [beta], commands: [deploy, status, help, access] }
  C0OPS: { environments: ["*"], commands: ["*"] }
alerts: []
`;

export interface HarnessOptions {
  name: string;
  /** Builds the config file from the kubeconfig path; default E2E_CONFIG. */
  config?: (kubeconfig: string) => string;
  roles?: Role[];
  socketMode?: boolean;
  redisUrl?: string;
  namespaces?: string[];
  /** More process settings (REDIS_TLS_CA, REDIS_SENTINELS, …). */
  env?: Record<string, string>;
  /** The bot's logger (default: silent, or TEST_LOG_LEVEL). */
  log?: Logger;
  /** Delete the test's keys at stop (default true; off for a private Redis the test throws away). */
  cleanup?: boolean;
}

/** The running bot and its emulators, with the shared flows of ./flows.ts (deployAndWait, waitForFinal, …). */
export interface Harness extends Flows {
  slack: SlackEmulator;
  kube: KubeEmulator;
  chatops: ChatOps;
  prefix: string;
  eventsUrl: string;
  baseUrl: string;
  kubeconfig: string;
  /** Posts a signed slash command as Slack does; returns the HTTP answer and the response_url used. */
  command(
    text: string,
    opts?: { channel?: string; user?: string; userName?: string; triggerId?: string },
  ): Promise<{ status: number; json: any; responseUrl: string; ms: number }>;
  click(input: Parameters<typeof postBlockAction>[2]): ReturnType<typeof postBlockAction>;
  /**
   * Stops the bot and starts a new one on the same Redis prefix, emulators and config (a restart of every process);
   * `whileDown` runs in between, when no process of the bot runs.
   */
  restart(whileDown?: () => Promise<void> | void): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'chatops-e2e-'));
  const kube = await startKubeEmulator({ namespaces: opts.namespaces ?? ['default', 'beta', 'prod'] });
  const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
  const slack = await startSlackEmulator({ botToken: BOT_TOKEN, appToken: 'xapp-test' });
  const configFile = join(dir, 'chatops.yaml');
  await writeFile(configFile, (opts.config ?? E2E_CONFIG)(kubeconfig));
  const prefix = freshPrefix(opts.name);
  const settings = loadSettings({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ...(opts.socketMode ? { SLACK_APP_TOKEN: 'xapp-test' } : {}),
    SLACK_API_URL: slack.url,
    PORT: '0',
    REDIS_URL: opts.redisUrl ?? TEST_REDIS_URL,
    CHATOPS_CONFIG: configFile,
    CHATOPS_QUEUE_PREFIX: prefix,
    CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
    ...(opts.roles?.length === 1 ? { CHATOPS_ROLE: opts.roles[0] } : {}),
    ...opts.env,
  });
  const log = opts.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  let chatops = await startChatOps(settings, log);
  let baseUrl = `http://127.0.0.1:${chatops.port}`;
  let eventsUrl = `${baseUrl}/slack/events`;
  const h: Omit<Harness, keyof Flows> = {
    slack,
    kube,
    get chatops() {
      return chatops;
    },
    get baseUrl() {
      return baseUrl;
    },
    get eventsUrl() {
      return eventsUrl;
    },
    prefix,
    kubeconfig,
    async command(text, o = {}) {
      const responseUrl = slack.newResponseUrl();
      const res = await postSlashCommand(eventsUrl, SIGNING_SECRET, {
        text,
        channel_id: o.channel ?? 'C0DEVTEAM',
        user_id: o.user ?? 'U0DEV',
        user_name: o.userName ?? 'dev',
        response_url: responseUrl,
        ...(o.triggerId ? { trigger_id: o.triggerId } : {}),
      });
      return { status: res.status, json: res.json, responseUrl, ms: res.ms };
    },
    click: (input) => postBlockAction(eventsUrl, SIGNING_SECRET, input),
    async restart(whileDown) {
      await chatops.stop();
      await whileDown?.();
      chatops = await startChatOps(settings, log);
      baseUrl = `http://127.0.0.1:${chatops.port}`;
      eventsUrl = `${baseUrl}/slack/events`;
    },
    async stop() {
      await chatops.stop();
      await slack.close();
      await kube.close();
      if (opts.cleanup !== false) await deletePrefix(prefix);
    },
  };
  // Object.assign keeps h's getters (chatops, baseUrl, eventsUrl) live.
  return Object.assign(h, flows(h));
}
