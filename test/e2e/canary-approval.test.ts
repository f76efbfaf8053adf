import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  prod:
    cluster: default
    namespace: prod
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, allowSelfApproval: false, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 5
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;
const IMAGE = 'registry.example.com/team/myapp';

const h = useHarness({
  name: 'canary-approval',
  config: CONFIG,
  namespaces: ['default', 'prod'],
  env: { CHATOPS_CANARY_WATCH_MS: '200' },
});

/** Asks as U0DEV, approves as U0OPSLEAD; resolves once the approval request was answered. */
async function approved(text: string): Promise<void> {
  const from = h.slack.calls.at(-1)?.seq ?? 0;
  const ack = await h.command(text, { channel: 'C0OPS', user: 'U0DEV' });
  expect(ack.json.text).toContain('needs approval');
  const message = await h.slack.waitForCall(
    (c) => c.seq > from && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text ?? ''),
    10_000,
  );
  const value = (message.args.blocks as any[])
    .find((b) => b.type === 'actions')
    .elements.find((e: any) => e.action_id === 'chatops_approve').value as string;
  const res = await h.click({
    user_id: 'U0OPSLEAD',
    channel_id: 'C0OPS',
    message_ts: message.response.ts as string,
    action_id: 'chatops_approve',
    value,
    response_url: h.slack.newResponseUrl(),
  });
  expect(res.status).toBe(200);
}

describe('canary on an environment with approval', () => {
  it('needs approval to start the canary and to promote it fully, never to abort it', async () => {
    await approved('deploy myapp prod 1.0.0');
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp')?.status?.readyReplicas === 2, 10_000, 'stable ready');

    const from = h.slack.calls.at(-1)?.seq ?? 0;
    await approved('deploy myapp prod 2.0.0 --canary 50');
    // The approver saw what would change.
    const request = h.slack.calls.find((c) => c.seq > from && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text ?? ''));
    const shown = JSON.stringify(request?.args.blocks);
    expect(shown).toContain('new deployment myapp-canary');
    // …and the diff: the canary Deployment created, the stable one not in it.
    expect(shown).toContain('+ deployment myapp-canary (namespace prod): created');
    expect(shown).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:2.0.0`);
    expect(shown).not.toContain('deployment myapp (namespace prod)');
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp-canary'), 10_000, 'the canary after approval');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp-canary').spec.replicas).toBe(2);

    const abort = await h.command('abort myapp prod', { channel: 'C0OPS', user: 'U0DEV' });
    expect(abort.json.text).toContain('Queued');
    await h.kube.waitFor(() => !h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp-canary'), 10_000, 'aborted without approval');

    await approved('deploy myapp prod 3.0.0 --canary');
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp-canary'), 10_000, 'a second canary');
    const promoting = h.slack.calls.at(-1)?.seq ?? 0;
    await approved('promote myapp prod --full');
    const promote = h.slack.calls.find(
      (c) => c.seq > promoting && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text ?? ''),
    );
    const promoteDiff = JSON.stringify(promote?.args.blocks);
    expect(promoteDiff).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    expect(promoteDiff).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:3.0.0`);
    expect(promoteDiff).toContain('- deployment myapp-canary (namespace prod): deleted');
    await h.kube.waitFor(() => !h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp-canary'), 10_000, 'promoted fully');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:3.0.0`);
  });
});
