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
  h.waitForFinal(new RegExp(`:white_check_mark: deploy myapp ${version.replaceAll('.', '\\.')} → ${env} — done`), {
    since,
    timeoutMs: 30_000,
  });

/** deploy to beta, then a prod deploy through its approval: the whole product on this Redis. */
export async function deployAndApprove(h: Harness, version: string): Promise<void> {
  await h.deployAndWait('myapp', 'beta', version, { channel: 'C0OPS', user: 'U0DEV', timeoutMs: 30_000 });

  const since = h.mark();
  expect((await h.command(`deploy myapp prod ${version}`, { channel: 'C0OPS', user: 'U0DEV' })).json.text).toContain('needs approval');
  const request = await h.waitForApproval({ since });
  expect((await h.clickApproval(request, 'U0OPSLEAD')).text).toContain('Approved');
  await done(h, version, 'prod', since);
  expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp').spec.template.spec.containers[0].image).toBe(
    `registry.example.com/team/myapp:${version}`,
  );
}

export { done as deployDone };
