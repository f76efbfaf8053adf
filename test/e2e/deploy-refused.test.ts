import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/**
 * A deploy whose pods the cluster refuses to create (the ServiceAccount admission plugin: the app names a service
 * account that does not exist) fails at once with Kubernetes' own words, not silently at its progress deadline.
 */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  web:
    image: registry.example.com/team/web
    replicas: 2
    progressDeadlineSeconds: 600
    serviceAccountName: web-sa
  db:
    image: registry.example.com/team/db
    kind: StatefulSet
    replicas: 2
    progressDeadlineSeconds: 600
    serviceAccountName: db-sa
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
alerts: []
`;

const h = useHarness({ name: 'deploy-refused', config: CONFIG });

describe('a deploy whose pods cannot be created', () => {
  it('fails promptly with the admission refusal in the thread, and the app comes up once the service account exists', async () => {
    const since = h.mark();
    const started = Date.now();
    const ack = await h.command('deploy web beta 1.0', { channel: 'C0OPS' });
    expect(String(ack.json?.text)).toContain('Queued');
    const failed = await h.waitForFinal(/:x: deploy web 1\.0 → beta — failed after/, { since });
    // the progress deadline is 10 minutes: the refusal, not the deadline, ended the rollout
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(failed.args.text).toContain('failed after');
    expect(failed.args.text).toContain(': the cluster refuses to create its pods, requested by');

    const rs = h.kube.list('apps/v1', 'ReplicaSet', 'beta').find((r) => r.metadata.name.startsWith('web-'));
    const refusal = `pods "${rs.metadata.name}-" is forbidden: error looking up service account beta/web-sa: serviceaccount "web-sa" not found`;
    const thread = h.threadText('C0OPS', failed.args.ts as string);
    expect(thread).toContain('*Why:* the cluster refuses to create the pods');
    expect(thread).toContain(`*Kubernetes says:* ${refusal}`);
    expect(thread).toContain('create it in `beta` or correct `serviceAccountName`');
    expect(thread).not.toContain('exceeded its progress deadline');
    expect(h.kube.list('v1', 'Pod', 'beta')).toEqual([]);

    // a new version with the same account: its own ReplicaSet's refusal is reported (the Deployment keeps the first message)
    const next = h.mark();
    await h.command('deploy web beta 1.1', { channel: 'C0OPS' });
    const failedAgain = await h.waitForFinal(/:x: deploy web 1\.1 → beta — failed after/, { since: next });
    const newRs = h.kube
      .list('apps/v1', 'ReplicaSet', 'beta')
      .find((r) => r.metadata.name.startsWith('web-') && r.metadata.annotations['deployment.kubernetes.io/revision'] === '2');
    expect(h.threadText('C0OPS', failedAgain.args.ts as string)).toContain(
      `*Kubernetes says:* pods "${newRs.metadata.name}-" is forbidden`,
    );
    const condition = h.kube.get('apps/v1', 'Deployment', 'beta', 'web').status.conditions.find((c: any) => c.type === 'ReplicaFailure');
    expect(condition.message).toBe(refusal);

    // nothing else to do: the ReplicaSet controller keeps retrying and the pods come once the account exists
    h.kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-sa', namespace: 'beta' } });
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'beta', 'web')?.status?.availableReplicas === 2, 10_000, 'web up');
    const again = await h.deployAndWait('web', 'beta', '1.1', { channel: 'C0OPS' });
    expect(again.args.text).toContain('done in');
  });

  it('a StatefulSet (no ReplicaFailure condition) fails promptly on its FailedCreate events', async () => {
    const since = h.mark();
    const started = Date.now();
    await h.command('deploy db beta 1.0', { channel: 'C0OPS' });
    const failed = await h.waitForFinal(/:x: deploy db 1\.0 → beta — failed after/, { since });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(h.threadText('C0OPS', failed.args.ts as string)).toContain(
      '*Kubernetes says:* create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: error looking up service account beta/db-sa: serviceaccount "db-sa" not found',
    );
  });
});
