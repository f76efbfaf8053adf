/**
 * A blue/green release whose worker process is SIGKILLed at the Service selector patch — once before the patch
 * lands, once right after it lands (its answer never reaches the bot) — and taken over by a second process through
 * BullMQ's stalled-job recovery: the release completes exactly once — unless the new colour's pods stopped being ready
 * while no process ran, and then the Service never moves.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/index.js';
import { CanaryStore } from '../../src/canary/store.js';
import { createLogger } from '../../src/log.js';
import { COMMAND_QUEUE } from '../../src/queue/commands.js';
import { TargetLocks } from '../../src/queue/target-lock.js';
import { botEnv, startBot, type BotProcess } from '../support/bot-process.js';
import { E2E_CONFIG, SIGNING_SECRET, BOT_TOKEN } from '../support/harness.js';
import { startKubeEmulator, type KubeEmulator, type RecordedRequest } from '../support/kube/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../support/redis.js';
import { postSlashCommand, startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';

const OPS = { channel_id: 'C0OPS', user_id: 'U0OPS' };
/** A wait on a bot process: its start compiles the source (tsx), seconds on a loaded 2-core machine. */
const PROCESS_WAIT_MS = 20_000;
const CASE_MS = 60_000;
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace('progressDeadlineSeconds: 3\n', 'progressDeadlineSeconds: 30\n')
    .replace(
      '  hungry:\n',
      `  web:\n    image: registry.example.com/team/web\n    port: 8080\n    replicas: 2\n    progressDeadlineSeconds: 30\n  flaky:\n    image: registry.example.com/team/flaky\n    port: 8080\n    replicas: 1\n    progressDeadlineSeconds: 3\n  hungry:\n`,
    );

let kube: KubeEmulator;
let slack: SlackEmulator;
let redis: Redis;
let configFile = '';
const prefix = freshPrefix('bg-kill');
let env: Record<string, string> = {};
const bots: BotProcess[] = [];
/** The process that runs now: each case starts from the one the case before left (a start is the slow part of a case). */
let bot: BotProcess | undefined;

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
  redis = new Redis(TEST_REDIS_URL);
  const dir = await mkdtemp(join(tmpdir(), 'chatops-bg-kill-'));
  configFile = join(dir, 'chatops.yaml');
  await writeFile(configFile, CONFIG(await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator'])));
  // A short job lock: BullMQ finds a dead worker's job stalled within seconds and another process resumes it.
  env = { ...botEnv({ slackUrl: slack.url, configFile, prefix }), CHATOPS_JOB_LOCK_MS: '3000' };
});
afterAll(async () => {
  for (const bot of bots) await bot.stop('SIGKILL');
  await slack?.close();
  await kube?.close();
  await deletePrefix(prefix);
  redis?.disconnect();
});

async function launch(): Promise<BotProcess> {
  bot = await startBot(env);
  bots.push(bot);
  return bot;
}

/** Rejects if `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The job's audit outcomes once its end is in: the worker writes it after the ✅/❌, once the target is free. */
async function jobOutcomes(app: string, jobId: string): Promise<string[]> {
  const audit = new AuditLog(redis, prefix, createLogger('silent'));
  return vi.waitFor(
    async () => {
      const outcomes = (await audit.recent({ app, env: 'beta', limit: 50 })).filter((e) => e.ref === jobId).map((e) => e.outcome);
      if (!outcomes.some((o) => o !== 'accepted')) throw new Error(`no end audited for ${jobId} yet`);
      return outcomes.sort();
    },
    { timeout: 5_000, interval: 50 },
  );
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('a blue/green release whose worker is SIGKILLed at the selector patch', () => {
  it.each([
    { when: 'before' as const, app: 'myapp' },
    { when: 'after' as const, app: 'web' },
  ])(
    'killed $when the patch lands: a second process completes the release exactly once ($app)',
    async ({ when, app }) => {
      const image = `registry.example.com/team/${app}`;
      const servicePath = `/api/v1/namespaces/beta/services/${app}`;
      const isPatch = (r: RecordedRequest) => r.method === 'PATCH' && r.path === servicePath && r.query.dryRun === undefined;
      // The switch is a JSON patch of the selector (a plain deploy applies the Service server-side: a PATCH of another type).
      const isSwitch = (r: RecordedRequest) => isPatch(r) && (r.contentType ?? '').startsWith('application/json-patch+json');
      let mark = Infinity;
      /** Every write to the Service since the blue/green deploy was sent. */
      const servicePatches = () => kube.requests.slice(mark).filter(isPatch);
      const deployment = (name: string) => kube.get('apps/v1', 'Deployment', 'beta', name);
      const selector = () => kube.get('v1', 'Service', 'beta', app).spec.selector as Record<string, string>;
      const isDone = (version: string, suffix = '') =>
        new RegExp(`:white_check_mark: deploy ${app} ${escape(version)} → beta${escape(suffix)}`);

      const first = bot ?? (await launch());
      const from = slack.calls.at(-1)?.seq ?? 0;
      await postSlashCommand(first.eventsUrl, SIGNING_SECRET, { ...OPS, text: `deploy ${app} beta 1.0.0` });
      await slack.waitForCall(
        (c) => c.seq > from && c.method === 'chat.update' && isDone('1.0.0').test(c.args.text ?? ''),
        PROCESS_WAIT_MS,
      );
      const original = selector();
      expect(original).toEqual({ 'app.kubernetes.io/name': app });

      // The kill, from inside the apiserver: the first selector patch of the release holds there until the bot is gone.
      let dropped: RecordedRequest | undefined;
      let killed!: () => void;
      const gone = new Promise<void>((resolve) => (killed = resolve));
      const removeHook = kube.onRequest({
        when,
        match: isSwitch,
        async run(r) {
          removeHook();
          await first.stop('SIGKILL');
          killed();
          if (when === 'after') return undefined;
          dropped = r;
          return 'drop';
        },
      });
      mark = kube.requests.length;
      const ack = await postSlashCommand(first.eventsUrl, SIGNING_SECRET, { ...OPS, text: `deploy ${app} beta 2.0.0 --blue-green` });
      const jobId = /`(cmd-[a-f0-9]+)`/.exec(JSON.stringify(ack.json))?.[1] ?? '';
      expect(jobId).not.toBe('');
      const requestId = jobId.slice('cmd-'.length);
      await within(gone, PROCESS_WAIT_MS, 'the selector patch (and the kill)');

      const applied = slack.calls.filter(
        (c) =>
          c.seq > from && c.method === 'chat.postMessage' && new RegExp(`applied to beta: deployment ${app}-green`).test(c.args.text ?? ''),
      );
      expect(applied).toHaveLength(1);
      const threadTs = applied[0]!.args.thread_ts as string;
      expect(servicePatches()).toHaveLength(1);
      expect(selector()).toEqual(when === 'before' ? original : { ...original, color: 'green' });
      expect(
        slack.calls.filter(
          (c) => c.seq > from && c.method === 'chat.update' && c.args.ts === threadTs && /:white_check_mark:/.test(c.args.text ?? ''),
        ),
      ).toEqual([]);

      // Another process on the same Redis prefix and config takes the job over.
      await launch();
      const done = await slack.waitForCall(
        (c) => c.seq > from && c.method === 'chat.update' && isDone('2.0.0', ' (blue/green)').test(c.args.text ?? ''),
        PROCESS_WAIT_MS,
      );
      expect(done.args.ts).toBe(threadTs);

      // The Service: switched to the new colour by one patch that landed (the one dropped with the first process never did).
      expect(selector()).toEqual({ ...original, color: 'green' });
      expect(servicePatches().filter((r) => r !== dropped)).toHaveLength(1);
      expect(servicePatches()).toHaveLength(when === 'before' ? 2 : 1);
      // One new colour, rolled out once; the old one still serves 1.0.0 at full scale, kept for keepOld.
      expect(deployment(`${app}-blue`)).toBeUndefined();
      expect(deployment(`${app}-green`).spec.template.spec.containers[0].image).toBe(`${image}:2.0.0`);
      expect(deployment(`${app}-green`).metadata.generation).toBe(1);
      const greenSets = kube
        .list('apps/v1', 'ReplicaSet', 'beta')
        .filter((rs) => rs.metadata.labels?.['app.kubernetes.io/name'] === app && rs.metadata.labels?.color === 'green');
      expect(greenSets).toHaveLength(1);
      expect(deployment(app).spec.replicas).toBe(2);
      expect(deployment(app).spec.template.spec.containers[0].image).toBe(`${image}:1.0.0`);
      const queue = new Queue(COMMAND_QUEUE, { connection: redis, prefix });
      try {
        const finish = (await queue.getJobs(['delayed', 'wait', 'active'])).filter(
          (j) => j.data.verb === 'abort' && j.data.args.finish === requestId,
        );
        expect(finish).toHaveLength(1);
        expect(finish[0]!.opts.delay).toBeGreaterThan(29 * 60_000);
        expect(finish[0]!.opts.delay).toBeLessThanOrEqual(30 * 60_000);
      } finally {
        await queue.close();
      }

      // Slack: one thread, one ✅, one switch message with its Switch back button.
      expect(
        slack.calls.filter(
          (c) =>
            c.method === 'chat.postMessage' && !c.args.thread_ts && new RegExp(`deploy ${app} 2\\.0\\.0 → beta`).test(c.args.text ?? ''),
        ),
      ).toHaveLength(1);
      expect(
        slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === threadTs && /:white_check_mark:/.test(c.args.text ?? '')),
      ).toHaveLength(1);
      const switched = slack.thread(OPS.channel_id, threadTs).filter((m) => new RegExp(`switched to ${app}-green`).test(m.text));
      expect(switched).toHaveLength(1);
      expect(JSON.stringify(switched[0]!.blocks)).toContain('chatops_run:bluegreen-back');

      // The audit: the job accepted once, then succeeded once, and never failed.
      expect(await jobOutcomes(app, jobId)).toEqual(['accepted', 'succeeded']);
      // The app is held by the keepOld hold only: the job's own lock is gone.
      const holder = await new TargetLocks(redis, prefix).holder('beta', app);
      expect(holder?.jobId).toBe(`bluegreen-${requestId}`);
      expect(holder?.hold).toBeDefined();
    },
    CASE_MS,
  );

  it(
    'killed before the patch lands, its new colour unready meanwhile: the second process leaves the Service alone and ends ❌',
    async () => {
      const app = 'flaky';
      const image = `registry.example.com/team/${app}`;
      const servicePath = `/api/v1/namespaces/beta/services/${app}`;
      const isPatch = (r: RecordedRequest) => r.method === 'PATCH' && r.path === servicePath && r.query.dryRun === undefined;
      const deployment = (name: string) => kube.get('apps/v1', 'Deployment', 'beta', name);
      const selector = () => kube.get('v1', 'Service', 'beta', app).spec.selector as Record<string, string>;
      const greenPods = () =>
        kube
          .list('v1', 'Pod', 'beta')
          .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === app && p.metadata.labels?.color === 'green');

      const first = bot ?? (await launch());
      const from = slack.calls.at(-1)?.seq ?? 0;
      const inThread = (ts: string, icon: RegExp) =>
        slack.calls.filter((c) => c.seq > from && c.method === 'chat.update' && c.args.ts === ts && icon.test(c.args.text ?? ''));
      await postSlashCommand(first.eventsUrl, SIGNING_SECRET, { ...OPS, text: `deploy ${app} beta 1.0.0` });
      await slack.waitForCall(
        (c) =>
          c.seq > from &&
          c.method === 'chat.update' &&
          new RegExp(`:white_check_mark: deploy ${app} 1\\.0\\.0 → beta`).test(c.args.text ?? ''),
        PROCESS_WAIT_MS,
      );
      const original = selector();

      let dropped: RecordedRequest | undefined;
      let killed!: () => void;
      const gone = new Promise<void>((resolve) => (killed = resolve));
      const removeHook = kube.onRequest({
        when: 'before',
        match: (r) => isPatch(r) && (r.contentType ?? '').startsWith('application/json-patch+json'),
        async run(r) {
          removeHook();
          await first.stop('SIGKILL');
          killed();
          dropped = r;
          return 'drop' as const;
        },
      });
      const mark = kube.requests.length;
      const ack = await postSlashCommand(first.eventsUrl, SIGNING_SECRET, { ...OPS, text: `deploy ${app} beta 2.0.0 --blue-green` });
      const jobId = /`(cmd-[a-f0-9]+)`/.exec(JSON.stringify(ack.json))?.[1] ?? '';
      expect(jobId).not.toBe('');
      await within(gone, PROCESS_WAIT_MS, 'the selector patch (and the kill)');
      const applied = slack.calls.find(
        (c) =>
          c.seq > from && c.method === 'chat.postMessage' && new RegExp(`applied to beta: deployment ${app}-green`).test(c.args.text ?? ''),
      );
      const threadTs = applied?.args.thread_ts as string;
      expect(threadTs).toBeDefined();

      // While no process runs, the new colour's pod dies and its replacement crash-loops: the Deployment is no longer ready.
      kube.setImageBehavior(`${image}:2.0.0`, { kind: 'crashLoop' });
      const [ready] = greenPods();
      kube.remove('v1', 'Pod', 'beta', ready.metadata.name);
      await kube.waitFor(
        () => greenPods().some((p) => p.metadata.name !== ready.metadata.name) && !deployment(`${app}-green`).status?.availableReplicas,
        5_000,
        'an unready replacement pod',
      );

      await launch();
      const failed = await slack.waitForCall(
        (c) => c.seq > from && c.method === 'chat.update' && c.args.ts === threadTs && /^:(x|white_check_mark):/.test(c.args.text ?? ''),
        PROCESS_WAIT_MS,
      );
      expect(failed.args.text).toMatch(
        new RegExp(
          `^:x: deploy ${app} 2\\.0\\.0 → beta \\(blue/green\\) — failed after .*: ${app}-green was not ready after the restart \\(the rollout did not finish within 3s\\); Service ${app} stays on ${app} and ${app}-green was scaled to 0`,
        ),
      );
      expect(inThread(threadTs, /:x:/)).toHaveLength(1);
      expect(inThread(threadTs, /:white_check_mark:/)).toEqual([]);
      expect(slack.thread(OPS.channel_id, threadTs).filter((m) => /switched to/.test(m.text))).toEqual([]);

      // The Service never moved: the one selector patch of the release was dropped with the first process.
      expect(selector()).toEqual(original);
      expect(kube.requests.slice(mark).filter(isPatch)).toEqual([dropped]);
      // The new colour is scaled to 0; the old Deployment still serves 1.0.0.
      expect(deployment(`${app}-green`).spec.replicas).toBe(0);
      expect(deployment(app).spec.replicas).toBe(1);
      expect(deployment(app).spec.template.spec.containers[0].image).toBe(`${image}:1.0.0`);

      // No record, and no keepOld hold: the target is free once the job's end is audited (the worker frees it first).
      expect(await new CanaryStore(redis, prefix, testSigner(), 'bluegreen').get('beta', app)).toBeUndefined();
      expect(await jobOutcomes(app, jobId)).toEqual(['accepted', 'failed']);
      expect(await new TargetLocks(redis, prefix).holder('beta', app)).toBeUndefined();
    },
    CASE_MS,
  );
});
