import { expect } from 'vitest';
import type { Harness } from '../support/harness.js';

/** A config with a gated prod, shared by the Sentinel and Cluster tests. */
export const TOPOLOGY_CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod:
    cluster: default
    namespace: prod
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    progressDeadlineSeconds: 30
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;

const done = (h: Harness, version: string, env: string, since: number) =>
  h.slack.waitForCall(
    (c) =>
      c.seq > since &&
      c.method === 'chat.update' &&
      new RegExp(`:white_check_mark: deploy myapp ${version.replaceAll('.', '\\.')} → ${env} — done`).test(c.args.text),
    30_000,
  );

/** deploy to beta, then a prod deploy through its approval: the whole product on this Redis. */
export async function deployAndApprove(h: Harness, version: string): Promise<void> {
  let since = h.slack.calls.at(-1)?.seq ?? 0;
  expect((await h.command(`deploy myapp beta ${version}`, { channel: 'C0OPS', user: 'U0DEV' })).json.text).toContain('Queued');
  await done(h, version, 'beta', since);

  since = h.slack.calls.at(-1)?.seq ?? 0;
  expect((await h.command(`deploy myapp prod ${version}`, { channel: 'C0OPS', user: 'U0DEV' })).json.text).toContain('needs approval');
  const message = await h.slack.waitForCall(
    (c) => c.seq > since && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text),
    15_000,
  );
  const value = (message.args.blocks as any[])
    .find((b) => b.type === 'actions')
    .elements.find((e: any) => e.action_id === 'chatops_approve').value as string;
  const responseUrl = h.slack.newResponseUrl();
  await h.click({
    user_id: 'U0OPSLEAD',
    channel_id: 'C0OPS',
    message_ts: message.response.ts,
    action_id: 'chatops_approve',
    value,
    response_url: responseUrl,
  });
  expect(String((await h.slack.waitForResponse((r) => r.id === responseUrl.split('/').pop(), 15_000)).body.text)).toContain('Approved');
  await done(h, version, 'prod', since);
  expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).toBe(
    `registry.example.com/team/myapp:${version}`,
  );
}

export { done as deployDone };
