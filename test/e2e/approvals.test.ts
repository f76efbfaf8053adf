import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { SlackCall } from '../support/slack/index.js';
import { Redis } from 'ioredis';
import { keysHolding, TEST_REDIS_URL } from '../support/redis.js';
import { until } from '../support/redis-topologies.js';

const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod:
    cluster: default
    namespace: prod
    promoteFrom: beta
    approval: { approvers: [U0OPSLEAD, S0OPSGROUP], minApprovals: 1, allowSelfApproval: false, timeout: 30m }
  quick:
    cluster: default
    namespace: quick
    approval: { approvers: [U0OPSLEAD], timeout: 1s }
  two:
    cluster: default
    namespace: two
    approval: { approvers: [U0OPSLEAD, U0SECOND], minApprovals: 2, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    progressDeadlineSeconds: 5
    secretKeys: [DB_PASSWORD]
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
  C0RELEASE: { environments: [prod], commands: [status, deploy], members: [S0RELEASERS] }
`;

const h = useHarness({ name: 'approvals', config: CONFIG, namespaces: ['default', 'beta', 'prod', 'quick', 'two'] });
let since = 0;
beforeAll(() => {
  h.slack.userGroups.set('S0OPSGROUP', ['U0GROUPIE']);
  h.slack.userGroups.set('S0RELEASERS', ['U0RELEASER']);
});
beforeEach(() => {
  since = h.mark();
});

const after = (pred: (c: SlackCall) => boolean, ms = 10_000) => h.slack.waitForCall((c) => c.seq > since && pred(c), ms);

/** Asks for a gated change and returns the approval message and its Approve button value. */
async function requestChange(text: string, user = 'U0DEV', channel = 'C0OPS') {
  const ack = await h.command(text, { channel, user });
  expect(ack.json.text).toContain('needs approval');
  // Match this request's own message (a request from an earlier test may still be arriving).
  const head = `/k8s ${text.split(' ').slice(0, 4).join(' ')}`;
  const { message, ts, value } = await h.waitForApproval({ since, match: (c) => JSON.stringify(c.args.blocks).includes(head) });
  return { message, ts, approveValue: value, channel };
}

const click = (user: string, action: 'chatops_approve' | 'chatops_reject', value: string, ts: string, channel = 'C0OPS') =>
  h.clickApproval({ ts, value, channel }, user, action);

const deployments = (ns: string) => h.kube.list('apps/v1', 'Deployment', ns);

describe('production approvals in the thread', () => {
  it('posts who asked, the exact command and what will change, and changes nothing yet', async () => {
    const { message } = await requestChange('deploy myapp prod 2.0.0');
    const shown = JSON.stringify(message.args.blocks);
    expect(message.args.text).toContain('requested by <@U0DEV>');
    expect(shown).toContain('/k8s deploy myapp prod 2.0.0');
    expect(shown).toContain('new deployment in prod with registry.example.com/team/myapp:2.0.0');
    expect(shown).toMatch(/Approve.*Reject/);
    expect(deployments('prod')).toHaveLength(0);
  });

  it('refuses a non-approver and a self-approval, then runs once an approver clicks, in the same thread', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp prod 2.1.0', 'U0OPSLEAD');
    expect((await click('U0RANDOM', 'chatops_approve', approveValue, ts)).text).toContain('not an approver for `prod`');
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('cannot approve it yourself');
    expect(deployments('prod')).toHaveLength(0);

    // A member of an approver user group may approve (resolved with usergroups.users.list).
    expect((await click('U0GROUPIE', 'chatops_approve', approveValue, ts)).text).toContain('Approved');
    const approved = await after((c) => c.method === 'chat.update' && c.args.ts === ts && /Approved by <@U0GROUPIE>/.test(c.args.text));
    expect(approved.args.blocks).not.toContainEqual(expect.objectContaining({ type: 'actions' }));
    const done = await h.waitForFinal(/:white_check_mark: deploy myapp 2\.1\.0 → prod — done/, { since, ts });
    expect(done.args.channel).toBe('C0OPS');
    expect(h.slack.thread('C0OPS', ts).some((m) => /applied to prod/.test(m.text))).toBe(true);
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/myapp:2.1.0',
    );

    // A click on a request that already ran is answered, not acted on.
    expect((await click('U0OPSLEAD', 'chatops_reject', approveValue, ts)).text).toContain('already approved');
  });

  it('runs exactly once when ten approvers click at the same moment', async () => {
    const before = h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').metadata.generation;
    const { ts, approveValue } = await requestChange('deploy myapp prod 2.2.0');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => click(i % 2 ? 'U0OPSLEAD' : 'U0GROUPIE', 'chatops_approve', approveValue, ts)),
    );
    expect(results.filter((r) => r.text.includes('is running'))).toHaveLength(1);
    await h.waitForFinal(/deploy myapp 2\.2\.0 → prod — done/, { since, ts });
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').metadata.generation).toBe(before + 1);
    const runs = h.slack.thread('C0OPS', ts).filter((m) => /applied to prod/.test(m.text));
    expect(runs).toHaveLength(1);
    const audit = await h.chatops.services.audit.recent({ env: 'prod', limit: 100 });
    expect(audit.filter((e) => e.ref === approveValue && e.outcome === 'approved')).toHaveLength(1);
  });

  it('never runs again: a stale Approve after its job is gone queues nothing, and a second job under the approval is refused', async () => {
    const { ts, approveValue, message } = await requestChange('deploy myapp prod 2.3.0');
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('is running');
    await h.waitForFinal(/deploy myapp 2\.3\.0 → prod — done/, { since, ts });
    const generation = h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').metadata.generation;
    expect((await h.chatops.services.approvals.get(approveValue))?.state).toBe('executed');

    // Days later the finished job is gone (retention); a late chat.update put the old buttons back.
    const jobId = `cmd-${(await h.chatops.services.approvals.get(approveValue))!.request.requestId}-approved`;
    await expect.poll(async () => (await h.chatops.queue.getJob(jobId))?.getState(), { timeout: 5_000 }).toBe('completed');
    await (await h.chatops.queue.getJob(jobId))!.remove();
    await h.chatops.services.slack.chat.update({ channel: 'C0OPS', ts, text: message.args.text, blocks: message.args.blocks });
    expect((await click('U0GROUPIE', 'chatops_approve', approveValue, ts)).text).toContain('already approved and run');
    expect(await h.chatops.queue.getJob(jobId)).toBeUndefined();
    expect(await h.chatops.queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });

    // A job that claims the spent approval (re-added under its id, or another id) is refused, and says so.
    const approval = (await h.chatops.services.approvals.get(approveValue))!;
    const { enqueueCommand } = await import('../../src/queue/commands.js');
    await enqueueCommand(
      h.chatops.queue,
      h.chatops.services.signer,
      { verb: 'deploy', args: approval.args, request: approval.request, threadTs: ts, approvalId: approveValue },
      2_000,
      jobId,
    );
    const refused = await after((c) => c.args.channel === 'C0OPS' && /already ran.*an approval runs once/.test(String(c.args.text)));
    expect(refused.args.text).toContain('Nothing was changed');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').metadata.generation).toBe(generation);
  });

  it('runs what approvers saw: a versionless promotion is pinned when the request is posted', async () => {
    await h.deployAndWait('myapp', 'beta', '4.0.0', { channel: 'C0OPS' });
    const { ts, approveValue, message } = await requestChange('deploy myapp prod');
    expect(message.args.text).toContain('deploy myapp 4.0.0 → prod');
    // beta moves on while the request waits; the approved run still promotes 4.0.0.
    await h.deployAndWait('myapp', 'beta', '5.0.0', { channel: 'C0OPS' });
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('is running');
    await h.waitForFinal(/deploy myapp 4\.0\.0 → prod — done/, { since, ts });
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/myapp:4.0.0',
    );
  });

  it('needs minApprovals distinct approvers', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp two 1.0.0');
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('1 more needed');
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('already approved');
    expect(deployments('two')).toHaveLength(0);
    expect((await click('U0SECOND', 'chatops_approve', approveValue, ts)).text).toContain('is running');
    await h.waitForFinal(/deploy myapp 1\.0\.0 → two — done/, { since, ts });
  });

  it('a click that lands before the request stored its message ts still runs in that thread and replaces the buttons', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp prod 2.3.0');
    // The window between posting the request and storing its ts, held open: the ts is taken off the record.
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const key = `${h.prefix}:chatops:approval:${approveValue}`;
      await raw.eval(
        `local r = cjson.decode(redis.call('HGET', KEYS[1], 'state')); r.messageTs = nil; redis.call('HSET', KEYS[1], 'state', cjson.encode(r))`,
        1,
        key,
      );
    } finally {
      raw.disconnect();
    }
    expect((await h.chatops.services.approvals.get(approveValue))?.messageTs).toBeUndefined();
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('is running');
    await after((c) => c.method === 'chat.update' && c.args.ts === ts && /Approved by <@U0OPSLEAD>/.test(c.args.text));
    await h.waitForFinal(/deploy myapp 2\.3\.0 → prod — done/, { since, ts });
    expect(h.slack.thread('C0OPS', ts).some((m) => /applied to prod/.test(m.text))).toBe(true);
  });

  it('refuses an approvers set with a member the bot did not sign (added in Redis): the request can no longer be approved', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp two 9.9.9');
    const raw = new Redis(TEST_REDIS_URL);
    try {
      await raw.sadd(`${h.prefix}:chatops:approval:${approveValue}:approvers`, 'U0MALLORY', 'U0EVE|v1.AAAA');
    } finally {
      raw.disconnect();
    }
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('failed its integrity check');
    await expect(h.chatops.services.approvals.get(approveValue)).rejects.toThrow(/failed signature verification/);
    // Cancelling it says the same, not that the store is unreachable.
    const cancelled = await h.command(`cancel ${approveValue}`, { channel: 'C0OPS', user: 'U0DEV' });
    expect(cancelled.json.text).toMatch(/^:no_entry: The request `apr-\S+` failed its integrity check .* there is nothing to cancel\.$/);
    expect(JSON.stringify(deployments('two'))).not.toContain('9.9.9');
  });

  it('a rejected request never runs, and says who rejected it', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp prod 6.6.6');
    expect((await click('U0OPSLEAD', 'chatops_reject', approveValue, ts)).text).toContain('Rejected');
    await after((c) => c.method === 'chat.update' && c.args.ts === ts && /Rejected by <@U0OPSLEAD>/.test(c.args.text));
    expect((await click('U0GROUPIE', 'chatops_approve', approveValue, ts)).text).toContain('already rejected');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).not.toContain('6.6.6');
    const audit = await h.chatops.services.audit.recent({ env: 'prod', limit: 100 });
    expect(audit.filter((e) => e.ref === approveValue).map((e) => e.outcome)).toEqual(
      expect.arrayContaining(['rejected', 'approval_requested']),
    );
  });

  it('expires after the timeout, also across a restart of every process, and then never runs', async () => {
    const { ts, approveValue } = await requestChange('deploy myapp quick 1.0.0');
    await h.restart();
    await after((c) => c.method === 'chat.update' && c.args.ts === ts && /Expired/.test(c.args.text), 10_000);
    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toMatch(/expired/);
    expect(deployments('quick')).toHaveLength(0);
    const audit = await h.chatops.services.audit.recent({ env: 'quick', limit: 10 });
    expect(audit.map((e) => e.outcome)).toContain('expired');
  });

  it("refuses a binding's non-member and lets a member of its user group through", async () => {
    const denied = await h.command('deploy myapp prod 3.0.0', { channel: 'C0RELEASE', user: 'U0DEV' });
    expect(denied.json.text).toContain('not one of the people allowed');
    const allowed = await h.command('deploy myapp prod 3.0.0', { channel: 'C0RELEASE', user: 'U0RELEASER' });
    expect(allowed.json.text).toContain('needs approval');
  });

  it('never shows or records a secret value: the approval request and the audit mask it', async () => {
    const { message, ts, approveValue } = await requestChange('config myapp prod set DB_PASSWORD=hunter2 LOG_LEVEL=debug');
    const shown = JSON.stringify(message.args.blocks);
    expect(shown).toContain('DB_PASSWORD=••••••');
    expect(shown).toContain('LOG_LEVEL=debug');
    expect(shown).not.toContain('hunter2');
    // The record keeps the value sealed (AES-GCM), never in clear; only the worker that applies it opens it.
    const record = (await h.chatops.services.approvals.get(approveValue))!;
    expect(record.args).toMatchObject({ words: ['DB_PASSWORD=••••••', 'LOG_LEVEL=debug'] });
    expect(record.sealedArgs).toMatch(/^s1\./);
    expect(await keysHolding(h.prefix, 'hunter2')).toEqual([]);

    expect((await click('U0OPSLEAD', 'chatops_approve', approveValue, ts)).text).toContain('is running');
    await h.waitForFinal(/config set DB_PASSWORD, LOG_LEVEL on myapp in prod — done/, { since, ts });
    expect(h.kube.get('v1', 'ConfigMap', 'prod', 'myapp-config').data.DB_PASSWORD).toBe('hunter2');
    const jobId = `cmd-${record.request.requestId}-approved`;
    await until(async () => (await h.chatops.queue.getJob(jobId))?.data.sealedArgs === undefined, 5_000, 'the sealed arguments dropped');
    expect(await keysHolding(h.prefix, 'hunter2')).toEqual([]);
    const audit = await h.chatops.services.audit.recent({ env: 'prod', limit: 100 });
    expect(JSON.stringify(audit)).not.toContain('hunter2');
  });

  it('shows the audit trail with /k8s audit', async () => {
    const res = await h.command('audit myapp prod', { channel: 'C0OPS', user: 'U0OPSLEAD' });
    expect(res.json.text).toContain('audited actions for myapp in prod');
    const shown = JSON.stringify(res.json.blocks);
    for (const outcome of ['approved', 'rejected', 'approval?', 'ok', 'queued']) expect(shown).toContain(outcome);
  });
});

describe('one write job per app and environment', () => {
  it('makes a second deploy wait, saying which job it waits for and who started it', async () => {
    h.kube.setImageBehavior('registry.example.com/team/myapp:slow', { kind: 'slowReady', readyAfterMs: 1_500 });
    await h.command('deploy myapp beta slow', { channel: 'C0OPS', user: 'U0FIRST' });
    await after((c) => c.method === 'chat.postMessage' && /deploy myapp slow → beta, requested by <@U0FIRST>/.test(c.args.text));
    await h.command('deploy myapp beta fast', { channel: 'C0OPS', user: 'U0SECOND' });
    const waiting = await after(
      (c) =>
        c.method === 'chat.postMessage' &&
        /waiting for `deploy myapp slow → beta` \(job `cmd-[a-f0-9]+`, started by <@U0FIRST>\)/.test(c.args.text),
    );
    expect(waiting.args.text).toContain('requested by <@U0SECOND>');
    const first = await after((c) => c.method === 'chat.update' && /deploy myapp slow → beta — done/.test(c.args.text), 15_000);
    const second = await after((c) => c.method === 'chat.update' && /deploy myapp fast → beta — done/.test(c.args.text), 15_000);
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.args.ts).toBe(waiting.response.ts);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/myapp:fast',
    );
  });
});
