/**
 * Abort after a failed promote --full, cut by a restart of the bot while it follows the stable's
 * rollout back: the next worker resumes following it (no second rollback) and ends the same thread once.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryStore } from '../../src/canary/lifecycle.js';
import { CanaryStore } from '../../src/canary/store.js';
import { COMMAND_QUEUE } from '../../src/queue/commands.js';
import { TargetLocks } from '../../src/queue/target-lock.js';
import { useHarness } from '../support/use-harness.js';
import { CANARY_CONFIG, CANARY_IMAGE as IMAGE } from './canary-fixtures.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const OPS = { channel: 'C0OPS', user: 'U0OPS' };

// A short grace: the running job is handed over at once instead of being waited for.
const h = useHarness({
  name: 'canary-restore-restart',
  config: CANARY_CONFIG,
  env: { CHATOPS_CANARY_WATCH_MS: '200', CHATOPS_SHUTDOWN_GRACE_MS: '200' },
});
// Our own connection: the bot's are closed while it is down.
let redis: Redis;
let queue: Queue;
let locks: TargetLocks;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const rollbackPatches = () =>
  h.kube.requests.filter(
    (r) =>
      r.method === 'PATCH' && r.path.endsWith('/deployments/myapp') && r.query.fieldManager === 'k8s-chatops-rollback' && !r.query.dryRun,
  );

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue(COMMAND_QUEUE, { connection: redis, prefix: h.chatops.services.prefix });
  locks = new TargetLocks(redis, h.chatops.services.prefix);
  await h.deployAndWait('myapp', 'beta', '1.0.0', OPS);
}, 30_000);
afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
});

describe('abort after a failed promote --full, across a restart of the bot', () => {
  it('the rollout back cut by the restart is followed again by the next worker: one rollback, one ✅, the canary ended once', async () => {
    let since = h.mark();
    await h.command('deploy myapp beta 2.0.0 --canary', OPS);
    await h.slack.waitForCall((c) => c.seq > since && c.method === 'chat.update' && /Canary of \*myapp\*/.test(c.args.text ?? ''), 15_000);
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 2, 10_000, 'canary ready');
    h.kube.setImageBehavior(`${IMAGE}:2.0.0`, { kind: 'imagePullFailure' });
    since = h.mark();
    await h.command('promote myapp beta --full', OPS);
    await h.slack.waitForCall(
      (c) => c.seq > since && c.method === 'chat.postMessage' && /did not finish rolling/.test(c.args.text ?? ''),
      20_000,
    );
    // Ops give the stable more time; its 1.0.0 pods, evicted meanwhile, come back slowly: the rollout back takes a while.
    h.kube.update({ ...deployment('myapp'), spec: { ...deployment('myapp').spec, progressDeadlineSeconds: 30 } });
    h.kube.setImageBehavior(`${IMAGE}:1.0.0`, { kind: 'slowReady', readyAfterMs: 3_000 });
    for (const p of h.kube.list('v1', 'Pod', 'beta').filter((p) => p.spec.containers[0].image === `${IMAGE}:1.0.0`))
      h.kube.evictPod('beta', p.metadata.name);

    since = h.mark();
    const res = await h.command('abort myapp beta', OPS);
    const jobId = /`(cmd-[a-f0-9]+)`/.exec(JSON.stringify(res.json))?.[1] ?? '';
    expect(jobId).not.toBe('');
    const applied = await h.slack.waitForCall(
      (c) =>
        c.seq > since &&
        c.method === 'chat.postMessage' &&
        /rolled back from revision 2 to revision 1 .*following its rollout/.test(c.args.text ?? ''),
      10_000,
    );
    h.kube.pauseController();
    const threadTs = String(applied.args.thread_ts);
    expect(rollbackPatches()).toHaveLength(1);

    await h.restart(async () => {
      // Nothing of the bot runs: the abort waits to be resumed; the canary, its record and its hold are all still there.
      expect(await queue.getJobState(jobId)).toBe('delayed');
      expect((await locks.holder('beta', 'myapp'))?.hold).toBeDefined();
      expect(await new CanaryStore(redis, h.chatops.services.prefix, h.chatops.services.signer).get('beta', 'myapp')).toBeDefined();
      expect(deployment('myapp-canary')).toBeDefined();
      h.kube.resumeController();
    });

    const final = await h.waitForFinal(/^:white_check_mark: abort canary myapp 2\.0\.0 in beta: myapp back to revision 1 — done/, {
      since,
      timeoutMs: 15_000,
    });
    expect(final.args.ts).toBe(threadTs);
    expect(deployment('myapp').status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    // Rolled back once: the resumed job found its own change and only followed it (revision 3, not a rollback of the rollback).
    expect(rollbackPatches()).toHaveLength(1);
    expect(deployment('myapp').metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    const thread = h.threadText(OPS.channel, threadTs);
    expect(thread).toContain(`myapp already rolled back to revision 1 (${IMAGE}:1.0.0) by this abort (no approval asked`);
    const ends = h.slack.calls.filter(
      (c) => c.seq > since && c.method === 'chat.update' && c.args.ts === threadTs && /abort canary myapp .* — /.test(c.args.text ?? ''),
    );
    expect(ends).toHaveLength(1);
    const said = h.slack.calls.filter((c) => c.seq > since && /Canary of myapp in beta aborted/.test(c.args.text ?? ''));
    expect(said).toHaveLength(1);
    expect(said[0]!.args.text).toContain('myapp is back on revision 1');
    expect(deployment('myapp-canary')).toBeUndefined();
    expect(await canaryStore(h.chatops.services).get('beta', 'myapp')).toBeUndefined();
    expect(await locks.holder('beta', 'myapp')).toBeUndefined();
  });
});
