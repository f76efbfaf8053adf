import { describe, expect, it } from 'vitest';
import { canonicalJson, Signer } from '../../src/security/signing.js';
import { MAX_JOB_AGE_MS, signCommandJob, verifyCommandJob, type CommandJobData } from '../../src/queue/commands.js';

const OLD = 'old-key-0123456789abcdef0123456789abcdef';
const NEW = 'new-key-0123456789abcdef0123456789abcdef';
const job: CommandJobData = {
  verb: 'deploy',
  args: { app: 'myapp', env: 'prod', version: '1.0.0' },
  request: { requestId: 'r1', text: 'deploy myapp prod 1.0.0', userId: 'U1', channelId: 'C1', receivedAt: 1 },
};

describe('signing', () => {
  it('is independent of key order, and any change to the value breaks it', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    const signer = new Signer({ current: NEW });
    const sig = signer.sign('job', { b: 1, a: 2 });
    expect(signer.verify('job', { a: 2, b: 1 }, sig)).toBe(true);
    expect(signer.verify('job', { a: 3, b: 1 }, sig)).toBe(false);
    expect(signer.verify('approval', { a: 2, b: 1 }, sig), 'a signature of one kind does not pass for another').toBe(false);
    expect(signer.verify('job', { a: 2, b: 1 }, undefined)).toBe(false);
    expect(signer.verify('job', { a: 2, b: 1 }, 'v1.AAAA')).toBe(false);
  });

  it('rotation: the previous key still verifies, new records use the current key, a retired key no longer verifies', () => {
    const before = new Signer({ current: OLD });
    const during = new Signer({ current: NEW, previous: OLD });
    const after = new Signer({ current: NEW });
    const oldSig = before.sign('approval', { id: 'x' });
    expect(during.verify('approval', { id: 'x' }, oldSig)).toBe(true);
    expect(after.verify('approval', { id: 'x' }, oldSig)).toBe(false);
    expect(after.verify('approval', { id: 'x' }, during.sign('approval', { id: 'x' }))).toBe(true);
    expect(() => new Signer({ current: 'short' })).toThrow(/at least 32/);
  });

  it("a job is bound to its id and what it asks; the worker's own bookkeeping may change; an old one is stale", () => {
    const signer = new Signer({ current: NEW });
    const signed = signCommandJob(signer, job, 'cmd-r1', 1_000);
    expect(verifyCommandJob(signer, signed, 'cmd-r1', 2_000)).toBe('ok');
    expect(verifyCommandJob(signer, { ...signed, threadTs: '1.2', waitingNotified: true }, 'cmd-r1', 2_000)).toBe('ok');
    expect(verifyCommandJob(signer, signed, 'cmd-r2', 2_000), 'copied under another id').toBe('forged');
    expect(verifyCommandJob(signer, { ...signed, args: { ...(signed.args as object), env: 'beta' } }, 'cmd-r1', 2_000)).toBe('forged');
    expect(verifyCommandJob(signer, { ...signed, request: { ...signed.request, channelId: 'C0OPS' } }, 'cmd-r1', 2_000)).toBe('forged');
    expect(verifyCommandJob(signer, { ...signed, approvalId: 'apr-x' }, 'cmd-r1', 2_000)).toBe('forged');
    expect(verifyCommandJob(signer, { ...signed, signedAt: 5_000 }, 'cmd-r1', 6_000), 'a re-dated copy').toBe('forged');
    expect(verifyCommandJob(signer, signed, 'cmd-r1', 1_000 + MAX_JOB_AGE_MS + 1)).toBe('stale');
    expect(verifyCommandJob(new Signer({ current: OLD }), signed, 'cmd-r1', 2_000)).toBe('forged');
  });
});
