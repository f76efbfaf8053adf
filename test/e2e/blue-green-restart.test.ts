/**
 * Blue/green across a restart of the bot (same Redis prefix, same emulators): a rollout of the
 * new colour handed over at shutdown, the Switch back button and the end of `blueGreen.keepOld`.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMAND_QUEUE, enqueueCommand } from '../../src/queue/commands.js';
import { TargetLocks } from '../../src/queue/target-lock.js';
import { E2E_CONFIG, startHarness, type Harness } from '../support/harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const OPS = { channel: 'C0OPS', user: 'U0OPS' };
const IMAGE = 'registry.example.com/team/myapp';
const WEB = 'registry.example.com/team/web';
const KEEP_OLD_MS = 5_000;
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace('progressDeadlineSeconds: 3\n', 'progressDeadlineSeconds: 30\n')
    .replace(
      '  hungry:\n',
      `  web:\n    image: ${WEB}\n    port: 8080\n    replicas: 1\n    progressDeadlineSeconds: 30\n    blueGreen: { keepOld: ${KEEP_OLD_MS / 1_000}s }\n  hungry:\n`,
    );

let h: Harness;
// Our own connection: the bot's are closed while it is down.
let redis: Redis;
let queue: Queue;
let locks: TargetLocks;
const seq = () => h.slack.calls.at(-1)?.seq ?? 0;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const selector = (app: string) => h.kube.get('v1', 'Service', 'beta', app).spec.selector as Record<string, string>;
/** The images of the running pods the Service's selector picks (what gets traffic). */
const served = (app: string) =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => !p.metadata.deletionTimestamp && Object.entries(selector(app)).every(([k, v]) => p.metadata.labels?.[k] === v))
    .map((p) => p.spec.containers[0].image as string)
    .sort();
const servicePatches = (app: string) => h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/services/${app}`));
const finishJobs = async () =>
  (await queue.getJobs(['delayed', 'wait', 'active'])).filter((j) => j.data.verb === 'abort' && j.data.args.finish);
const updates = (ts: string, pattern: RegExp) =>
  h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts && pattern.test(c.args.text ?? ''));
const posts = (pattern: RegExp) => h.slack.calls.filter((c) => c.method === 'chat.postMessage' && pattern.test(c.args.text ?? ''));

async function deployed(text: string, pattern: RegExp) {
  const from = seq();
  const res = await h.command(text, OPS);
  expect(res.json.text).toContain('Queued');
  return h.slack.waitForCall((c) => c.seq > from && c.method === 'chat.update' && pattern.test(c.args.text ?? ''), 15_000);
}

beforeAll(async () => {
  // A short grace: the running job is handed over at once instead of being waited for.
  h = await startHarness({ name: 'blue-green-restart', config: CONFIG, env: { CHATOPS_SHUTDOWN_GRACE_MS: '200' } });
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue(COMMAND_QUEUE, { connection: redis, prefix: h.chatops.services.prefix });
  locks = new TargetLocks(redis, h.chatops.services.prefix);
  await deployed('deploy myapp beta 1.0.0', /:white_check_mark: deploy myapp 1\.0\.0 → beta/);
  await deployed('deploy web beta 1.0.0', /:white_check_mark: deploy web 1\.0\.0 → beta/);
}, 30_000);
afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await h?.stop();
});

describe('blue/green across a restart of the bot', () => {
  let threadTs = '';
  let jobId = '';

  it('a rollout of the new colour cut by the restart is resumed: the Service switches once, the thread ends once', async () => {
    // Slow to get ready, and the cluster is paused once the new colour is applied: the bot surely stops before it is ready.
    h.kube.setImageBehavior(`${IMAGE}:2.0.0`, { kind: 'slowReady', readyAfterMs: 4_000 });
    const from = seq();
    const patches = servicePatches('myapp').length;
    const res = await h.command('deploy myapp beta 2.0.0 --blue-green', OPS);
    jobId = /`(cmd-[a-f0-9]+)`/.exec(JSON.stringify(res.json))?.[1] ?? '';
    expect(jobId).not.toBe('');
    const applied = await h.slack.waitForCall(
      (c) => c.seq > from && c.method === 'chat.postMessage' && /applied to beta: deployment myapp-green/.test(c.args.text ?? ''),
      10_000,
    );
    h.kube.pauseController();
    threadTs = applied.args.thread_ts as string;
    expect(deployment('myapp-green').status?.readyReplicas ?? 0).toBe(0);

    await h.restart(async () => {
      // Nothing of the bot runs: the job waits to be resumed, and its target stays taken meanwhile.
      expect(await queue.getJobState(jobId)).toBe('delayed');
      expect((await locks.holder('beta', 'myapp'))?.jobId).toBe(jobId);
      expect(selector('myapp')).toEqual({ 'app.kubernetes.io/name': 'myapp' });
      h.kube.resumeController();
    });

    const done = await h.slack.waitForCall(
      (c) =>
        c.seq > from &&
        c.method === 'chat.update' &&
        /:white_check_mark: deploy myapp 2\.0\.0 → beta \(blue\/green\)/.test(c.args.text ?? ''),
      15_000,
    );
    expect(done.args.ts).toBe(threadTs);
    expect(selector('myapp')).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(served('myapp')).toEqual([`${IMAGE}:2.0.0`, `${IMAGE}:2.0.0`]);
    expect(servicePatches('myapp')).toHaveLength(patches + 1);
    // One rollout of the new colour (the resumed job re-applied the same object), the old one untouched.
    expect(h.kube.list('apps/v1', 'ReplicaSet', 'beta').filter((rs) => rs.metadata.labels?.color === 'green')).toHaveLength(1);
    expect(deployment('myapp').spec.replicas).toBe(2);
    expect(posts(/deploy myapp 2\.0\.0 → beta/).filter((c) => !c.args.thread_ts)).toHaveLength(1);
    expect(updates(threadTs, /:white_check_mark: deploy myapp 2\.0\.0/)).toHaveLength(1);
    expect(h.slack.thread(OPS.channel, threadTs).filter((m) => /switched to myapp-green/.test(m.text))).toHaveLength(1);
    expect(await finishJobs()).toHaveLength(1);
  });

  it('the same job run again after a crash right after the switch completes it without a second switch', async () => {
    // What a worker killed between the selector patch and the rest leaves: switched, nothing scheduled, not held.
    const original = (await queue.getJob(jobId))!;
    const hold = (await locks.holder('beta', 'myapp'))!;
    for (const job of await finishJobs()) await job.remove();
    await locks.releaseHold('beta', 'myapp', hold.jobId);
    const { finished: _finished, sig: _sig, signedAt: _signedAt, ...data } = original.data;
    await original.remove();
    const patches = servicePatches('myapp').length;
    const switched = posts(/switched to myapp-green/).length;

    await enqueueCommand(h.chatops.services.queue, h.chatops.services.signer, data, 2_000, jobId);
    await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.thread_ts === threadTs &&
        /switched to myapp-green/.test(c.args.text ?? '') &&
        posts(/switched to myapp-green/).length > switched,
      10_000,
    );
    expect(servicePatches('myapp')).toHaveLength(patches);
    expect(deployment('myapp-blue')).toBeUndefined();
    expect(selector('myapp')).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    const finish = await finishJobs();
    expect(finish).toHaveLength(1);
    expect(finish[0]!.opts.delay).toBeLessThanOrEqual(30 * 60_000);
    expect(finish[0]!.opts.delay).toBeGreaterThan(29 * 60_000);
    expect((await locks.holder('beta', 'myapp'))?.jobId).toBe(hold.jobId);
    expect(deployment('myapp').spec.replicas).toBe(2);
  });

  it('the Switch back button posted before a restart works after it, in one patch', async () => {
    const offer = h.slack.thread(OPS.channel, threadTs).find((m) => /switched to myapp-green/.test(m.text));
    const button = (offer?.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === 'chatops_run:bluegreen-back');
    expect(button).toBeDefined();
    await h.restart(async () => {
      expect((await locks.holder('beta', 'myapp'))?.hold).toBeDefined();
      expect(await finishJobs()).toHaveLength(1);
    });

    const from = seq();
    const patches = servicePatches('myapp').length;
    await h.click({
      user_id: OPS.user,
      channel_id: OPS.channel,
      message_ts: offer!.ts,
      thread_ts: threadTs,
      action_id: button.action_id,
      value: button.value,
      response_url: h.slack.newResponseUrl(),
    });
    await h.slack.waitForCall((c) => c.seq > from && c.method === 'chat.postMessage' && /Switched back by/.test(c.args.text ?? ''), 10_000);
    expect(served('myapp')).toEqual([`${IMAGE}:1.0.0`, `${IMAGE}:1.0.0`]);
    expect(selector('myapp')['pod-template-hash']).toBeDefined();
    expect(servicePatches('myapp')).toHaveLength(patches + 1);
    expect(deployment('myapp-green').spec.replicas).toBe(0);
    expect(posts(/Switched back by/)).toHaveLength(1);
    // The switch-back period is over: no scale-to-0 left to come, the app is free.
    expect(await finishJobs()).toEqual([]);
    expect(await locks.holder('beta', 'myapp')).toBeUndefined();
  });

  it('the old colour is scaled to 0 at keepOld, once, across a restart; then the app is free for the next release', async () => {
    const ok = await deployed('deploy web beta 2.0.0 --blue-green', /:white_check_mark: deploy web 2\.0\.0 → beta \(blue\/green\)/);
    const switchedAt = Date.now();
    expect(served('web')).toEqual([`${WEB}:2.0.0`]);
    await h.restart(async () => {
      expect(await finishJobs()).toHaveLength(1);
      expect(deployment('web').spec.replicas).toBe(1);
    });

    const ended = /web scaled to 0 at the end of `blueGreen.keepOld`/;
    const finished = await h.slack.waitForCall((c) => c.method === 'chat.postMessage' && ended.test(c.args.text ?? ''), 15_000);
    expect(Date.now() - switchedAt).toBeGreaterThanOrEqual(KEEP_OLD_MS - 1_000);
    expect(finished.args.thread_ts).toBe(ok.args.ts);
    expect(deployment('web').spec.replicas).toBe(0);
    expect(served('web')).toEqual([`${WEB}:2.0.0`]);
    expect(await locks.holder('beta', 'web')).toBeUndefined();
    // The job that did it completes; nothing of the kind is left to run.
    await vi.waitFor(async () => expect(await finishJobs()).toEqual([]), { timeout: 5_000, interval: 50 });
    const completed = (await queue.getJobs(['completed'])).filter((j) => j.data.verb === 'abort' && j.data.args.app === 'web');
    expect(completed).toHaveLength(1);

    await deployed('deploy web beta 3.0.0 --blue-green', /:white_check_mark: deploy web 3\.0\.0 → beta \(blue\/green\)/);
    expect(selector('web')).toEqual({ 'app.kubernetes.io/name': 'web', color: 'blue' });
    expect(served('web')).toEqual([`${WEB}:3.0.0`]);
    expect(deployment('web-green').spec.replicas).toBe(1);
    expect(posts(ended)).toHaveLength(1);
  });
});
