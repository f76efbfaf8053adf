import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ApprovalStore } from '../../src/approvals/store.js';
import { TargetLocks } from '../../src/worker/target-lock.js';
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
    const results = await Promise.all(['U1', 'U2', 'U3', 'U1', 'U4', 'U5', 'U6', 'U7', 'U8', 'U9'].map((u) => store.approve(a.id, u, false)));
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
    await new Promise((resolve) => setTimeout(resolve, 40));
    const third = await locks.acquire('beta', 'myapp', { jobId: 'j3', userId: 'U3', description: 'restart', since: 0 });
    expect(third.acquired).toBe(true);
    if (third.acquired) await third.release();
  });
});
