/** Approval requests carry the server-side dry run's diff; a request whose live objects changed while it waited asks again. */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { SlackCall } from '../support/slack/index.js';

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
    replicas: 1
    progressDeadlineSeconds: 5
    secretKeys: [DB_PASSWORD]
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;
const IMAGE = 'registry.example.com/team/myapp';

const h = useHarness({ name: 'approval-diff', config: CONFIG });
let since = 0;
const after = (pred: (c: SlackCall) => boolean, ms = 10_000) => h.slack.waitForCall((c) => c.seq > since && pred(c), ms);

/** Asks for a gated change; returns its approval message and Approve button value. */
async function requestChange(text: string) {
  const ack = await h.command(text, { channel: 'C0OPS', user: 'U0DEV' });
  expect(ack.json.text).toContain('needs approval');
  // The command as shown (secret values masked): its first words.
  const head = `/k8s ${text.split(' ').slice(0, 4).join(' ')}`;
  const message = await after(
    (c) => c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text) && JSON.stringify(c.args.blocks).includes(head),
  );
  return { message, ts: message.response.ts as string, approve: approveValue(message) };
}

function approveValue(message: SlackCall): string {
  const actions = (message.args.blocks as any[]).find((b) => b.type === 'actions');
  return actions.elements.find((e: any) => e.action_id === 'chatops_approve').value as string;
}

const approve = (value: string, ts: string) =>
  h.click({
    user_id: 'U0OPSLEAD',
    channel_id: 'C0OPS',
    message_ts: ts,
    action_id: 'chatops_approve',
    value,
    response_url: h.slack.newResponseUrl(),
  });

const deployment = () => h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp');
const image = () => deployment().spec.template.spec.containers[0].image as string;

beforeAll(async () => {
  since = h.slack.calls.at(-1)?.seq ?? 0;
  const { ts, approve: value } = await requestChange('deploy myapp prod 1.0.0');
  await approve(value, ts);
  await after(
    (c) => c.method === 'chat.update' && c.args.ts === ts && /:white_check_mark: deploy myapp 1\.0\.0 → prod — done/.test(c.args.text),
    15_000,
  );
});
beforeEach(() => {
  since = h.slack.calls.at(-1)?.seq ?? 0;
});

describe('the diff on approval requests', () => {
  it('shows approvers the -/+ lines of the dry run, secrets masked, and writes nothing', async () => {
    const rv = deployment().metadata.resourceVersion;
    const { message } = await requestChange('config myapp prod set DB_PASSWORD=hunter2 LOG_LEVEL=debug');
    const shown = JSON.stringify(message.args.blocks);
    expect(shown).toContain('*Diff* (server-side dry run');
    expect(shown).toContain('~ configmap myapp-config (namespace prod): changed');
    expect(shown).toContain('+ data.LOG_LEVEL: debug');
    expect(shown).toContain('+ data.DB_PASSWORD: ••••••');
    expect(shown).not.toContain('hunter2');
    expect(deployment().metadata.resourceVersion).toBe(rv);
    expect(h.kube.get('v1', 'ConfigMap', 'prod', 'myapp-config').data).not.toHaveProperty('LOG_LEVEL', 'debug');

    const deploy = await requestChange('deploy myapp prod 1.1.0');
    const lines = JSON.stringify(deploy.message.args.blocks);
    expect(lines).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    expect(lines).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:1.1.0`);
    expect(image()).toBe(`${IMAGE}:1.0.0`);
  });

  it('does not apply an approved change whose live Deployment changed meanwhile: it posts the new diff and asks again', async () => {
    const { ts, approve: value } = await requestChange('deploy myapp prod 1.2.0');
    // Someone changes the live Deployment while the request waits.
    const live = deployment();
    live.spec.template.spec.containers[0].image = `${IMAGE}:1.0.5`;
    h.kube.update(live);
    const generation = deployment().metadata.generation;

    since = h.slack.calls.at(-1)?.seq ?? 0;
    await approve(value, ts);
    const again = await after(
      (c) => c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text) && c.args.ts === undefined && c.response.ts !== ts,
      15_000,
    );
    const shown = JSON.stringify(again.args.blocks);
    expect(shown).toContain('/k8s deploy myapp prod 1.2.0');
    expect(shown).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.5`);
    expect(shown).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:1.2.0`);
    expect(h.slack.thread('C0OPS', ts).some((m) => /live objects changed after this request was posted/.test(m.text))).toBe(true);
    // Nothing applied: still what someone else set, same generation.
    expect(image()).toBe(`${IMAGE}:1.0.5`);
    expect(deployment().metadata.generation).toBe(generation);

    // The new request, approved while nothing changes, runs.
    const newTs = again.response.ts as string;
    await approve(approveValue(again), newTs);
    await after(
      (c) => c.method === 'chat.update' && c.args.ts === newTs && /:white_check_mark: deploy myapp 1\.2\.0 → prod — done/.test(c.args.text),
      15_000,
    );
    expect(image()).toBe(`${IMAGE}:1.2.0`);
  });
});
