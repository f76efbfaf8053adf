import { beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/**
 * `rollback` (and `history`) of every kind, as `kubectl rollout undo` does it:
 * a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions;
 * rendered and adopted apps; the Rollback button of a failed deploy of an adopted workload.
 */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  web:
    image: registry.example.com/team/web
    replicas: 1
    progressDeadlineSeconds: 10
  legacy:
    image: registry.example.com/team/legacy
    progressDeadlineSeconds: 10
    workload: { kind: Deployment, name: legacy-web, container: web }
  db:
    image: registry.example.com/team/db
    kind: StatefulSet
    replicas: 2
    progressDeadlineSeconds: 10
  agent:
    image: registry.example.com/team/agent
    progressDeadlineSeconds: 3
    workload: { kind: DaemonSet, name: node-agent, container: agent }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
alerts: []
`;
const OPS = 'C0OPS';
const REG = 'registry.example.com/team';

const h = useHarness({ name: 'rollback', config: CONFIG });
let since = 0;
beforeEach(() => {
  since = h.mark();
});

const threadText = (ts: string) => h.threadText(OPS, ts);
/** The worker's private answer to a command (its response_url). */
const answer = async (responseUrl: string): Promise<string> => {
  const res = await h.answer(responseUrl, (text) => !/Queued/.test(text));
  return `${res.body?.text ?? ''}\n${JSON.stringify(res.body?.blocks ?? [])}`;
};
const run = (text: string) => h.command(text, { channel: OPS });
async function deploy(app: string, version: string): Promise<void> {
  await h.deployAndWait(app, 'beta', version, { channel: OPS });
  since = h.mark();
}
const images = (kind: string, name: string) =>
  (h.kube.get('apps/v1', kind, 'beta', name).spec.template.spec.containers as Array<{ name: string; image: string }>).map(
    (c) => `${c.name}=${c.image}`,
  );
const revisionsOf = (owner: string) =>
  h.kube
    .list('apps/v1', 'ControllerRevision', 'beta')
    .filter((r) => r.metadata.ownerReferences?.[0]?.name === owner)
    .sort((a, b) => a.revision - b.revision);
const podsOf = (label: string, value: string) => h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels?.[label] === value);
const lastPatch = (path: string) => h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === path).at(-1);

describe('rollback of a Deployment', () => {
  it('rendered: goes back to the previous ReplicaSet, which takes the next revision number', async () => {
    await deploy('web', '1.0');
    await deploy('web', '2.0');
    const replicaSets = h.kube.list('apps/v1', 'ReplicaSet', 'beta').filter((rs) => rs.metadata.name.startsWith('web-'));
    expect(replicaSets).toHaveLength(2);

    await run('rollback web beta');
    const done = await h.waitForFinal(/:white_check_mark: rollback web in beta — done/, { since });
    expect(threadText(done.args.ts)).toMatch(
      /rolled back from revision 2 to revision 1 \(replica set web-[a-z0-9]+\): image registry\.example\.com\/team\/web:2\.0 → registry\.example\.com\/team\/web:1\.0/,
    );
    expect(images('Deployment', 'web')).toEqual([`web=${REG}/web:1.0`]);
    const after = h.kube.list('apps/v1', 'ReplicaSet', 'beta').filter((rs) => rs.metadata.name.startsWith('web-'));
    expect(after).toHaveLength(2);
    const old = after.find((rs) => rs.spec.template.spec.containers[0].image === `${REG}/web:1.0`);
    expect(old.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(old.metadata.annotations['deployment.kubernetes.io/revision-history']).toBe('1');
    // The controller copies the Deployment's annotations onto it: kubectl rollout history shows this CHANGE-CAUSE.
    expect(old.metadata.annotations['kubernetes.io/change-cause']).toMatch(/^k8s-chatops rollback web beta to revision 1 by /);
    expect(lastPatch('/apis/apps/v1/namespaces/beta/deployments/web')?.contentType).toContain('application/json-patch+json');
  });

  it('adopted: restores the template of the earlier ReplicaSet, sidecar included, under the adopted name', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'legacy-web', namespace: 'beta', labels: { app: 'legacy-web' } },
      spec: {
        replicas: 1,
        progressDeadlineSeconds: 5,
        selector: { matchLabels: { app: 'legacy-web' } },
        template: {
          metadata: { labels: { app: 'legacy-web' } },
          spec: {
            containers: [
              { name: 'web', image: `${REG}/legacy:1.0` },
              { name: 'proxy', image: 'envoyproxy/envoy:v1.29' },
            ],
          },
        },
      },
    });
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web')?.status?.availableReplicas === 1, 10_000);
    await deploy('legacy', '2.0');
    expect(images('Deployment', 'legacy-web')).toEqual([`web=${REG}/legacy:2.0`, 'proxy=envoyproxy/envoy:v1.29']);

    const history = await answer((await run('history legacy beta')).responseUrl);
    expect(history).toMatch(
      /legacy in beta: 2 revisions, current 2 \(registry\.example\.com\/team\/legacy:2\.0, envoyproxy\/envoy:v1\.29\)/,
    );

    await run('rollback legacy beta');
    const done = await h.waitForFinal(/:white_check_mark: rollback legacy in beta — done/, { since });
    expect(threadText(done.args.ts)).toMatch(/rolled back from revision 2 to revision 1 \(replica set legacy-web-[a-z0-9]+\)/);
    expect(images('Deployment', 'legacy-web')).toEqual([`web=${REG}/legacy:1.0`, 'proxy=envoyproxy/envoy:v1.29']);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web').metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy')).toBeUndefined();
  });
});

describe('rollback of a StatefulSet through its ControllerRevisions', () => {
  it('lists the revisions, goes back to the previous one, and its pods run that revision', async () => {
    await deploy('db', '1.0');
    await deploy('db', '2.0');
    const [rev1, rev2] = revisionsOf('db');
    expect([rev1?.revision, rev2?.revision]).toEqual([1, 2]);

    const history = await answer((await run('history db beta')).responseUrl);
    expect(history).toMatch(/db in beta: 2 revisions, current 2 \(registry\.example\.com\/team\/db:2\.0\)/);
    expect(history).toMatch(/\*2\* :arrow_left: \*current\* · `registry\.example\.com\/team\/db:2\.0`.* · 2\/2 ready/);

    since = h.mark();
    await run('rollback db beta');
    const done = await h.waitForFinal(/:white_check_mark: rollback db in beta — done/, { since });
    expect(threadText(done.args.ts)).toMatch(
      new RegExp(
        `rolled back from revision 2 to revision 1 \\(controller revision ${rev1!.metadata.name}\\): image registry\\.example\\.com/team/db:2\\.0 → registry\\.example\\.com/team/db:1\\.0`,
      ),
    );
    expect(images('StatefulSet', 'db')).toEqual([`db=${REG}/db:1.0`]);
    // The controller re-uses revision 1's object under the next number, as for kubectl rollout undo.
    expect(revisionsOf('db').map((r) => [r.metadata.name, r.revision])).toEqual([
      [rev2!.metadata.name, 2],
      [rev1!.metadata.name, 3],
    ]);
    const sts = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db');
    expect(sts.status.updateRevision).toBe(rev1!.metadata.name);
    expect(sts.metadata.annotations['k8s-chatops.io/deployed-by']).toBeDefined();
    await h.kube.waitFor(() => podsOf('controller-revision-hash', rev1!.metadata.name).length === 2, 10_000, 'db pods at revision 3');
    expect(lastPatch('/apis/apps/v1/namespaces/beta/statefulsets/db')?.contentType).toContain('application/strategic-merge-patch+json');
  });

  it('refuses a revision that does not exist, naming the ones there are, and changes nothing', async () => {
    const before = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db').metadata.resourceVersion;
    const text = await answer((await run('rollback db beta 7')).responseUrl);
    expect(text).toMatch(
      /statefulset db in namespace beta has no revision 7; its revisions are 3 \(registry\.example\.com\/team\/db:1\.0\), 2 \(registry\.example\.com\/team\/db:2\.0\)/,
    );
    expect(h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db').metadata.resourceVersion).toBe(before);
  });

  it('says there is nothing to do when the StatefulSet already runs that revision', async () => {
    const text = await answer((await run('rollback db beta 3')).responseUrl);
    expect(text).toMatch(
      /Nothing to roll back: db in beta already runs the template of revision 3 \(registry\.example\.com\/team\/db:1\.0\)/,
    );
  });
});

describe('rollback of an adopted DaemonSet', () => {
  it('goes back to the previous ControllerRevision, leaves the other container as it was, and offers it on a failed deploy', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-agent', namespace: 'beta' },
      spec: {
        selector: { matchLabels: { app: 'node-agent' } },
        template: {
          metadata: { labels: { app: 'node-agent' } },
          spec: {
            containers: [
              { name: 'agent', image: `${REG}/agent:1.0` },
              { name: 'exporter', image: 'prom/node-exporter:1' },
            ],
          },
        },
      },
    });
    await h.kube.waitFor(() => {
      const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'node-agent');
      return ds?.status?.desiredNumberScheduled > 0 && ds.status.numberAvailable === ds.status.desiredNumberScheduled;
    }, 10_000);

    // A deploy whose image cannot be pulled fails at the app's deadline and offers the Rollback button.
    h.kube.setImageBehavior(`${REG}/agent:9.9-typo`, { kind: 'imagePullFailure' });
    await run('deploy agent beta 9.9-typo');
    const failed = await h.waitForFinal(/:x: deploy agent 9\.9-typo → beta — failed/, { since });
    const offer = h.slack.thread(OPS, failed.args.ts).find((m) => JSON.stringify(m.blocks ?? []).includes('"text":"Rollback"'));
    expect(offer, 'a thread message with the Rollback button').toBeDefined();
    expect(JSON.stringify(offer!.blocks)).toMatch(/puts agent in beta back to revision 1 \(registry\.example\.com\/team\/agent:1\.0/);
    const value = (offer!.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === 'chatops_run').value;

    since = h.mark();
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: offer!.ts,
      thread_ts: failed.args.ts,
      action_id: 'chatops_run',
      value,
      response_url: h.slack.newResponseUrl(),
    });
    const done = await h.waitForFinal(/:white_check_mark: rollback agent in beta to revision 1 — done/, { since });
    expect(h.slack.message(OPS, done.args.ts)?.thread_ts).toBe(failed.args.ts);
    expect(threadText(failed.args.ts)).toMatch(
      /rolled back from revision 2 to revision 1 \(controller revision node-agent-[a-z0-9]+\): image registry\.example\.com\/team\/agent:9\.9-typo, prom\/node-exporter:1 → registry\.example\.com\/team\/agent:1\.0, prom\/node-exporter:1/,
    );
    expect(images('DaemonSet', 'node-agent')).toEqual([`agent=${REG}/agent:1.0`, 'exporter=prom/node-exporter:1']);
    const rev = revisionsOf('node-agent').find((r) => r.revision === 3);
    expect(rev.data.spec.template.spec.containers[0].image).toBe(`${REG}/agent:1.0`);
    const hash = rev.metadata.labels['controller.kubernetes.io/hash'];
    const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'node-agent').status.desiredNumberScheduled;
    await h.kube.waitFor(() => podsOf('controller-revision-hash', hash).length === ds, 10_000, 'agent pods at revision 3');
  });
});
