/**
 * A worker killed after its verb ran to the end but before BullMQ marked the job completed:
 * BullMQ hands the job out again (stalled). The copy must only complete — no second change,
 * no second audit entry, no second ✅ (found by bench/replicas.ts with SIGKILLed workers).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Job } from 'bullmq';
import { enqueueCommand, jobIdFor, type CommandJobData } from '../../src/queue/commands.js';
import { useHarness } from '../support/use-harness.js';

const h = useHarness({ name: 'finished-job' });
beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: 'C0OPS', user: 'U0OPS' });
}, 30_000);

describe('a job that already ran to its end', () => {
  it('is completed without running again', async () => {
    const { queue, signer, audit } = h.chatops.services;
    const before = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    const auditBefore = (await audit.recent({ app: 'myapp', env: 'beta', verb: 'scale', limit: 100 })).length;
    const requestId = 'f'.repeat(24);
    const data: CommandJobData = {
      verb: 'scale',
      args: { app: 'myapp', env: 'beta', replicas: '5' },
      request: { requestId, text: 'scale myapp beta 5', userId: 'U0OPS', channelId: 'C0OPS', receivedAt: Date.now() },
      finished: 'succeeded',
    };
    const id = await enqueueCommand(queue, signer, data);
    const job = (await queue.getJob(id)) as Job<CommandJobData>;
    await vi.waitFor(
      async () => {
        if (!(await job.isCompleted())) throw new Error('not completed yet');
      },
      { timeout: 10_000, interval: 50 },
    );
    const after = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    expect(after.spec.replicas).toBe(before.spec.replicas);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect((await audit.recent({ app: 'myapp', env: 'beta', verb: 'scale', limit: 100 })).length).toBe(auditBefore);
    expect(h.slack.calls.some((c) => /scale myapp/.test(String(c.args.text ?? '')))).toBe(false);
  });

  it('records its outcome as soon as the verb returns, before the audit entry', async () => {
    const res = await h.command('scale myapp beta 3', { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toContain('Queued');
    const id = /`(cmd-[a-f0-9]+)`/.exec(JSON.stringify(res.json))?.[1];
    expect(id).toBeDefined();
    const job = (await h.chatops.services.queue.getJob(id!)) as Job<CommandJobData>;
    await vi.waitFor(
      async () => {
        if (!(await job.isCompleted())) throw new Error('not completed yet');
      },
      { timeout: 15_000, interval: 50 },
    );
    const done = (await h.chatops.services.queue.getJob(id!)) as Job<CommandJobData>;
    expect(done.data.finished).toBe('succeeded');
    // Recorded with the ✅ it was about to send, and the target it held.
    const sent = h.slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === done.data.threadTs);
    expect(done.data.final).toEqual({
      headline: expect.objectContaining({ text: sent?.args.text }),
      lock: { env: 'beta', app: 'myapp' },
      audit: { env: 'beta', app: 'myapp' },
    });
  });

  it('whose worker died while sending its ✅: the copy sends the same ✅ again, frees the target and writes the audit entry, no change', async () => {
    const { queue, signer, audit, locks, redis, slack } = h.chatops.services;
    const before = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    const requestId = 'e'.repeat(24);
    const id = jobIdFor(requestId);
    // What the dead run left: its thread, the target lock in its name, the end recorded.
    const thread = await slack.chat.postMessage({ channel: 'C0OPS', text: ':rocket: scale myapp in beta to 7' });
    await redis.set(
      locks.key('beta', 'myapp'),
      JSON.stringify({ jobId: id, userId: 'U0OPS', description: 'scale myapp', since: Date.now() }),
      'PX',
      60_000,
    );
    const headline = { text: ':white_check_mark: scale myapp in beta to 7 — done in 2s, requested by <@U0OPS>' };
    const since = h.slack.calls.length;
    await enqueueCommand(queue, signer, {
      verb: 'scale',
      args: { app: 'myapp', env: 'beta', replicas: '7' },
      request: { requestId, text: 'scale myapp beta 7', userId: 'U0OPS', channelId: 'C0OPS', receivedAt: Date.now() },
      threadTs: thread.ts!,
      finished: 'succeeded',
      final: { headline, lock: { env: 'beta', app: 'myapp' }, audit: { env: 'beta', app: 'myapp' } },
    });
    const job = (await queue.getJob(id)) as Job<CommandJobData>;
    await vi.waitFor(
      async () => {
        if (!(await job.isCompleted())) throw new Error('not completed yet');
      },
      { timeout: 10_000, interval: 50 },
    );
    const calls = h.slack.calls.slice(since);
    expect(calls.filter((c) => c.method === 'chat.update').map((c) => [c.args.ts, c.args.text])).toEqual([[thread.ts, headline.text]]);
    expect(calls.some((c) => c.method === 'chat.postMessage')).toBe(false);
    expect(await locks.holder('beta', 'myapp')).toBeUndefined();
    expect((await audit.recent({ app: 'myapp', env: 'beta', verb: 'scale', limit: 100 })).filter((e) => e.ref === id)).toEqual([
      expect.objectContaining({ outcome: 'succeeded', ref: id, detail: `${headline.text} (entry written by a resumed copy of the job)` }),
    ]);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').metadata.generation).toBe(before.metadata.generation);
  });

  it("writes a run's audit entry once, however many copies of the job write it", async () => {
    const { audit } = h.chatops.services;
    const entry = { outcome: 'succeeded' as const, verb: 'scale', command: 'scale myapp beta 2', userId: 'U0OPS', channelId: 'C0OPS' };
    await audit.record({ ...entry, ref: 'cmd-once' }, 'cmd-once@1#0:succeeded');
    await audit.record({ ...entry, ref: 'cmd-once' }, 'cmd-once@1#0:succeeded');
    await audit.record({ ...entry, ref: 'cmd-once', outcome: 'failed' }, 'cmd-once@1#1:failed');
    const written = (await audit.recent({ verb: 'scale', limit: 500 })).filter((e) => e.ref === 'cmd-once');
    expect(written.map((e) => e.outcome)).toEqual(['failed', 'succeeded']);
  });
});
