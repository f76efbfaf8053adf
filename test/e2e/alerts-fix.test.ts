import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import {
  deployment,
  ONCALL,
  podsOf,
  runningDeployment,
  shown,
  waitForAlert,
  waitForThreadReply,
  waitForUpdate,
} from './alerts-fixtures.js';

/** The fix an alert offers: Raise memory limit (through policy and approval) and Lower the request to fit. */
const APPROVER = 'U0APPROVER';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta, limits: { maxMemory: 1Gi } }
  prod:
    cluster: default
    namespace: prod
    limits: { maxMemory: 2Gi }
    approval: { approvers: [${APPROVER}], timeout: 30m }
apps:
  leaky: { image: registry.example.com/team/leaky, workload: { kind: Deployment, name: leaky, container: app } }
  capped: { image: registry.example.com/team/capped, workload: { kind: Deployment, name: capped, container: app } }
  roomy: { image: registry.example.com/team/roomy, workload: { kind: Deployment, name: roomy, container: app } }
channels:
  ${ONCALL}: { environments: [beta, prod], commands: ["*"] }
alerts:
  - { environments: [beta, prod], channel: ${ONCALL}, on: [OOMKilled, Unschedulable], pendingFor: 300ms, recoverAfter: 60s }
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ name: 'alerts-fix', config: CONFIG });
});
afterAll(async () => {
  await h?.stop();
});

const buttons = (m: { blocks?: any[] }) => (m.blocks ?? []).flatMap((b) => (b.type === 'actions' ? b.elements : []));

async function click(actionId: string, value: string, user: string, messageTs: string) {
  const responseUrl = h.slack.newResponseUrl();
  await h.click({
    user_id: user,
    user_name: user.toLowerCase(),
    channel_id: ONCALL,
    message_ts: messageTs,
    action_id: actionId,
    value,
    response_url: responseUrl,
  });
  return h.answer(responseUrl);
}

describe('Raise memory limit on an OOMKilled alert', () => {
  it('offers 1.5 × the limit, rounded up; a click asks for approval in prod, and the approved run applies and follows it', async () => {
    const [pod] = await runningDeployment(h.kube, 'prod', 'leaky', {
      limits: { memory: '256Mi' },
      requests: { cpu: '10m', memory: '64Mi' },
    });
    h.kube.oomKill('prod', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment leaky · prod/);
    const offered = await waitForUpdate(h.slack, alert.ts, /Raise memory limit to 384Mi/);
    expect(shown(offered)).toContain('1.5 × the limit 256Mi, rounded up');
    const all = buttons(offered);
    // Every button of the block has its own action_id (Slack refuses duplicates).
    expect(new Set(all.map((b: any) => b.action_id)).size).toBe(all.length);
    const raise = all.find((b: any) => b.text.text === 'Raise memory limit to 384Mi');
    expect(raise.action_id).toBe('chatops_run:fix');

    const ack = await click(raise.action_id, raise.value, 'U0ONCALL', alert.ts);
    expect(ack.body.text).toMatch(/needs approval/);
    const request = await waitForThreadReply(h.slack, alert.ts, /Approval needed/);
    expect(shown(request)).toContain('/k8s resources leaky prod --memory-limit 384Mi');
    expect(shown(request)).toContain('memory limit 256Mi → 384Mi');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'leaky').spec.template.spec.containers[0].resources.limits.memory).toBe('256Mi');

    const approve = buttons(request).find((b: any) => b.action_id === 'chatops_approve');
    const approved = await click('chatops_approve', approve.value, APPROVER, request.ts);
    expect(approved.body.text).toMatch(/Approved|running/);
    await h.kube.waitFor(
      () => h.kube.get('apps/v1', 'Deployment', 'prod', 'leaky').spec.template.spec.containers[0].resources.limits.memory === '384Mi',
      10_000,
      'the raised limit',
    );
    // Followed like a deploy, in the alert's thread.
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && /resources leaky in prod: memory limit → 384Mi — done/.test(String(c.args.text)),
      15_000,
    );
    const pods = podsOf(h.kube, 'prod', 'leaky');
    expect(pods.map((p) => p.spec.containers[0].resources.limits.memory)).toEqual(['384Mi']);
  });

  it("offers no raise when the limit is at the environment's bound, and says so", async () => {
    const [pod] = await runningDeployment(h.kube, 'beta', 'capped', {
      limits: { memory: '1Gi' },
      requests: { cpu: '10m', memory: '64Mi' },
    });
    h.kube.oomKill('beta', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment capped · beta/);
    const noted = await waitForUpdate(h.slack, alert.ts, /already at `beta`'s bound/);
    expect(shown(noted)).toContain('(`limits.maxMemory: 1Gi`), so no raise is offered');
    expect(buttons(noted).map((b: any) => b.text.text)).not.toContainEqual(expect.stringMatching(/Raise/));
  });
});

describe('Lower the request on an Unschedulable alert', () => {
  it('suggests the memory request that fits the node with the most room, and the button applies it', async () => {
    // Each emulated node has 8Gi allocatable: 10Gi fits none.
    h.kube.create(deployment('beta', 'roomy', { requests: { cpu: '10m', memory: '10Gi' } }));
    const alert = await waitForAlert(h.slack, /Unschedulable · deployment roomy · beta/);
    const offered = await waitForUpdate(h.slack, alert.ts, /Lower memory request to/);
    const lower = buttons(offered).find((b: any) => /^Lower memory request to /.test(b.text.text));
    // It would fit a whole empty node (8Gi), but beta's bound is 1Gi: the fix stays within what `resources` may set.
    const to = '1Gi';
    expect(lower.text.text).toBe(`Lower memory request to ${to}`);
    expect(shown(offered)).toMatch(
      /It would fit `node-\d`, the node with the most room, with the memory request at 1Gi \(now 10Gi, `beta`'s bound\)/,
    );
    expect(lower.action_id).toBe('chatops_run:fix');

    const ack = await click(lower.action_id, lower.value, 'U0ONCALL', alert.ts);
    expect(ack.body.text).toContain(`Queued \`resources roomy in beta: memory request → ${to}\``);
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && new RegExp(`resources roomy in beta: memory request → ${to} — done`).test(String(c.args.text)),
      15_000,
    );
    const pods = podsOf(h.kube, 'beta', 'roomy');
    expect(pods.map((p) => [p.spec.containers[0].resources.requests.memory, Boolean(p.spec.nodeName)])).toEqual([[to, true]]);
  });
});
