import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ApprovalStore } from '../../src/approvals/store.js';
import { TargetLocks } from '../../src/queue/target-lock.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../support/redis.js';

const prefix = freshPrefix('approval-store');
let redis: Redis;
let now = 1_000_000;
let store: ApprovalStore;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  store = new ApprovalStore(redis, prefix, testSigner(), () => now);
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(prefix);
});

let n = 0;
const create = (minApprovals = 1) =>
  store.create({
    verb: 'deploy',
    args: { app: 'myapp', env: 'prod', pairs: [] },
    description: 'deploy myapp → prod',
    env: 'prod',
    app: 'myapp',
    request: { requestId: `req${++n}aaaaaaaaaaaa`, text: 'deploy myapp prod', userId: 'U0DEV', channelId: 'C0OPS', receivedAt: now },
    changes: ['image a → b'],
    minApprovals,
    expiresAt: now + 60_000,
  });

describe('approval state transitions (atomic, in Redis)', () => {
  it('is created once per Slack request and keeps arrays intact', async () => {
    const a = await create();
    const again = await store.create({ ...a, request: a.request, expiresAt: a.expiresAt });
    expect(again.id).toBe(a.id);
    expect((await store.get(a.id))?.args).toEqual({ app: 'myapp', env: 'prod', pairs: [] });
  });

  it('approves once among many concurrent clicks', async () => {
    const a = await create();
    const results = await Promise.all(
      ['U1', 'U2', 'U3', 'U1', 'U4', 'U5', 'U6', 'U7', 'U8', 'U9'].map((u) => store.approve(a.id, u, false)),
    );
    expect(results.filter((r) => r.result === 'approved')).toHaveLength(1);
    expect((await store.get(a.id))?.state).toBe('approved');
  });

  it('refuses self-approval unless allowed, and counts distinct approvers', async () => {
    const a = await create(2);
    expect((await store.approve(a.id, 'U0DEV', false)).result).toBe('self');
    expect((await store.approve(a.id, 'U1', false)).result).toBe('recorded');
    expect((await store.approve(a.id, 'U1', false)).result).toBe('already_approved_by_you');
    expect((await store.approve(a.id, 'U0DEV', true)).result).toBe('approved');
  });

  it('expires at the deadline: late clicks and the expiry job both see it', async () => {
    const a = await create();
    expect((await store.close(a.id, 'expired', 'system')).result).toBe('not_due');
    now += 61_000;
    expect((await store.approve(a.id, 'U1', false)).result).toBe('expired');
    expect((await store.close(a.id, 'expired', 'system')).result).toBe('not_pending');
    now -= 61_000;
  });

  it('lists pending requests until they are decided', async () => {
    const a = await create();
    expect((await store.listPending()).map((r) => r.id)).toContain(a.id);
    await store.close(a.id, 'rejected', 'U1');
    expect((await store.listPending()).map((r) => r.id)).not.toContain(a.id);
  });
});

describe('an approved change runs at most once, ever', () => {
  const approved = async () => {
    const a = await create();
    expect((await store.approve(a.id, 'U1', false, 10 * 60_000)).result).toBe('approved');
    return a;
  };

  it('lets exactly one run claim it, lets that same run resume, and refuses every other run', async () => {
    const a = await approved();
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimRun(a.id, `cmd-x-approved@${i}`)));
    expect(claims.filter((c) => c === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c === 'already_executed')).toHaveLength(9);
    const winner = `cmd-x-approved@${claims.indexOf('claimed')}`;
    const record = await store.get(a.id);
    expect(record).toMatchObject({ state: 'executed', executedBy: winner, executedAt: now });
    // A crashed run taken over by BullMQ is the same run; a job re-added under the same id is not.
    expect(await store.claimRun(a.id, winner)).toBe('resumed');
    expect(await store.claimRun(a.id, 'cmd-x-approved@999')).toBe('already_executed');
    // Nothing moves it back: no approval, rejection or cancel applies any more.
    expect((await store.approve(a.id, 'U2', false)).result).toBe('not_pending');
    expect(await store.withdrawApproved(a.id, 'U2')).toBe('executed');
    expect((await store.close(a.id, 'cancelled', 'U2')).result).toBe('not_pending');
  });

  it('refuses a run past its deadline, and a request that was never approved', async () => {
    const a = await approved();
    now += 10 * 60_000 + 1;
    expect(await store.claimRun(a.id, 'late@1')).toBe('past_deadline');
    now -= 10 * 60_000 + 1;
    const pending = await create();
    expect(await store.claimRun(pending.id, 'run@1')).toBe('not_approved');
    expect(await store.claimRun('apr-doesnotexist', 'run@1')).toBe('missing');
  });

  it('remembers that the run was queued, and a cancelled run spends the approval', async () => {
    const a = await approved();
    expect((await store.get(a.id))?.queuedAt).toBeUndefined();
    expect(await store.markQueued(a.id)).toBe('ok');
    expect((await store.get(a.id))?.queuedAt).toBe(now);
    expect(await store.withdrawApproved(a.id, 'U0OPS')).toBe('cancelled');
    expect(await store.claimRun(a.id, 'run@1')).toBe('not_approved');
  });

  it('creates a record, its TTL and its index entry in one Lua step; the approvers set expires with the record', async () => {
    const monitor = await redis.duplicate().monitor();
    const seen: Array<{ args: string[]; source: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args.some((a) => a.includes(prefix))) seen.push({ args, source });
    });
    const a = await create();
    await store.approve(a.id, 'U1', false); // minApprovals 1: the decisive click
    const b = await create(2);
    await store.approve(b.id, 'U1', false);
    await expect.poll(() => seen.some((s) => s.args[0]?.toLowerCase() === 'sadd'), { timeout: 2_000, interval: 5 }).toBe(true);
    monitor.disconnect();
    const writes = seen.filter((s) => ['hsetnx', 'hset', 'expire', 'zadd'].includes(s.args[0]!.toLowerCase()) && s.args[1]?.endsWith(a.id));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((s) => s.source === 'lua')).toBe(true);
    expect(await redis.ttl(`${prefix}:chatops:approval:${a.id}`)).toBeGreaterThan(7 * 24 * 3600);
    expect(await redis.zscore(`${prefix}:chatops:approvals:pending`, b.id)).not.toBeNull();
    expect(await redis.pttl(`${prefix}:chatops:approval:${b.id}:approvers`)).toBeGreaterThan(7 * 24 * 3600 * 1_000);
  });
});

describe('per-target lease lock', () => {
  it('lets one holder in, tells the other who holds it, and frees itself when the holder dies', async () => {
    const locks = new TargetLocks(redis, prefix, 200);
    const first = await locks.acquire('beta', 'myapp', { jobId: 'j1', userId: 'U1', description: 'deploy', since: 0 });
    expect(first.acquired).toBe(true);
    const second = await locks.acquire('beta', 'myapp', { jobId: 'j2', userId: 'U2', description: 'scale', since: 0 });
    expect(second).toMatchObject({ acquired: false, holder: { jobId: 'j1', userId: 'U1' } });
    // The same job (a retry after a crash) takes its own lock back.
    expect((await locks.acquire('beta', 'myapp', { jobId: 'j1', userId: 'U1', description: 'deploy', since: 0 })).acquired).toBe(true);
    if (first.acquired) await first.release();
    // A holder that died stops renewing: its lease runs out by itself (a lease of 30 ms, waited out).
    await redis.set(locks.key('beta', 'myapp'), JSON.stringify({ jobId: 'dead', userId: 'U9', description: 'deploy', since: 0 }), 'PX', 30);
    expect((await locks.acquire('beta', 'myapp', { jobId: 'j3', userId: 'U3', description: 'restart', since: 0 })).acquired).toBe(false);
    // Wait for Redis to expire it (a condition, not a fixed sleep).
    await expect.poll(() => redis.exists(locks.key('beta', 'myapp')), { timeout: 2_000, interval: 5 }).toBe(0);
    const third = await locks.acquire('beta', 'myapp', { jobId: 'j3', userId: 'U3', description: 'restart', since: 0 });
    expect(third.acquired).toBe(true);
    if (third.acquired) await third.release();
  });

  it("keeps a handed-over job's target for the hand-over lease, for that job only", async () => {
    const locks = new TargetLocks(redis, prefix, 200, 60_000);
    const held = await locks.acquire('beta', 'handed', { jobId: 'j1', userId: 'U1', description: 'deploy', since: 0 });
    if (!held.acquired) throw new Error('not acquired');
    await held.handOver();
    // A bot restart that takes longer than the running lease: the target is still the job's.
    expect(await redis.pttl(locks.key('beta', 'handed'))).toBeGreaterThan(55_000);
    expect(await locks.acquire('beta', 'handed', { jobId: 'j2', userId: 'U2', description: 'scale', since: 0 })).toMatchObject({
      acquired: false,
      holder: { jobId: 'j1' },
    });
    // The resumed job (same id) takes it back, with the running lease again, and frees it at its end.
    const resumed = await locks.acquire('beta', 'handed', { jobId: 'j1', userId: 'U1', description: 'deploy', since: 0 });
    expect(resumed.acquired).toBe(true);
    expect(await redis.pttl(locks.key('beta', 'handed'))).toBeLessThanOrEqual(200);
    if (resumed.acquired) await resumed.release();
    expect(await locks.holder('beta', 'handed')).toBeUndefined();
  });
});
