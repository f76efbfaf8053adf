import { beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/** StatefulSets and DaemonSets: rendered or adopted, deployed, restarted, scaled, and each rule of `kubectl rollout status`. */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  db:
    image: registry.example.com/team/db
    kind: StatefulSet
    port: 5432
    replicas: 2
    progressDeadlineSeconds: 20
    healthCheck: { tcp: 5432 }
    storage: { size: 1Gi, mountPath: /data }
    ingress: { host: db.example.com }
  agent:
    image: registry.example.com/team/agent
    kind: DaemonSet
    progressDeadlineSeconds: 20
    tolerations: [{ operator: Exists }]
  cache:
    image: registry.example.com/team/cache
    progressDeadlineSeconds: 20
    workload: { kind: StatefulSet, name: cache, container: redis }
  logship:
    image: registry.example.com/team/logship
    progressDeadlineSeconds: 20
    workload: { kind: DaemonSet, name: log-shipper, container: shipper, configMap: log-shipper-config }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
alerts: []
`;

const h = useHarness({ name: 'workloads-kinds', config: CONFIG });
let since = 0;
beforeEach(() => {
  since = h.mark();
});

const threadText = (ts: string) =>
  h.slack
    .thread('C0OPS', ts)
    .map((m) => m.text)
    .join('\n');
const answer = async (responseUrl: string): Promise<string> => {
  const res = await h.answer(responseUrl, (text) => !/Queued/.test(text));
  return `${res.body?.text ?? ''}\n${JSON.stringify(res.body?.blocks ?? [])}`;
};
const run = (text: string) => h.command(text, { channel: 'C0OPS' });

describe('rendered StatefulSet and DaemonSet', () => {
  it('deploys a StatefulSet with its volumeClaimTemplate, headless Service and Ingress, followed to the end', async () => {
    const done = await h.deployAndWait('db', 'beta', '15.1', { channel: 'C0OPS', timeoutMs: 20_000 });
    expect(threadText(done.args.ts)).toContain('created statefulset with registry.example.com/team/db:15.1');
    const sts = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db');
    expect(sts.spec.serviceName).toBe('db-headless');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    expect(sts.status.readyReplicas).toBe(2);
    expect(h.kube.get('v1', 'Service', 'beta', 'db-headless').spec.clusterIP).toBe('None');
    expect(h.kube.get('networking.k8s.io/v1', 'Ingress', 'beta', 'db').spec.rules[0].host).toBe('db.example.com');
    // Followed on the StatefulSet itself (read, then watched while it is not done).
    expect(h.kube.requests.some((r) => r.method === 'GET' && r.path.endsWith('/namespaces/beta/statefulsets/db'))).toBe(true);
  });

  it('reports the API server refusing a change to an immutable StatefulSet field (422), and changes nothing', async () => {
    const live = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db');
    const claims = structuredClone(live.spec.volumeClaimTemplates);
    claims[0].spec.resources.requests.storage = '2Gi';
    h.kube.update({ ...live, spec: { ...live.spec, volumeClaimTemplates: claims } });
    await run('deploy db beta 15.2');
    const failed = await h.waitForFinal(/:x: .*Kubernetes refused the change to statefulset db in namespace beta/, {
      since,
      timeoutMs: 20_000,
    });
    const text = `${String(failed.args.text)}\n${threadText(failed.args.ts)}`;
    expect(text).toMatch(
      /StatefulSet\.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas'/,
    );
    expect(text).toMatch(/kubectl delete statefulset db -n beta --cascade=orphan/);
    const after = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'db').spec;
    expect(after.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    expect(after.template.spec.containers[0].image).toBe('registry.example.com/team/db:15.1');
  });

  it('deploys a DaemonSet onto every node and refuses to scale it, with the reason', async () => {
    await h.deployAndWait('agent', 'beta', '2.0', { channel: 'C0OPS', timeoutMs: 20_000 });
    const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'agent');
    expect(ds.status.numberAvailable).toBe(ds.status.desiredNumberScheduled);
    expect(ds.status.desiredNumberScheduled).toBeGreaterThan(0);
    const res = await run('scale agent beta 3');
    expect(await answer(res.responseUrl)).toMatch(
      /agent is a DaemonSet \(agent\): it runs one pod on each eligible node and has no replica count to scale/,
    );
  });

  it('shows the status of a StatefulSet', async () => {
    const res = await run('status db beta');
    expect(await answer(res.responseUrl)).toMatch(/db in beta: 2\/2 available/);
  });
});

describe('adopted StatefulSet and DaemonSet', () => {
  const podTemplate = (labels: Record<string, string>, container: string, image: string) => ({
    metadata: { labels },
    spec: {
      containers: [
        { name: container, image },
        { name: 'exporter', image: 'prom/exporter:1' },
      ],
    },
  });

  it('sets the image of one container of a partitioned StatefulSet and ends when the pods above the partition are updated', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'cache', namespace: 'beta', labels: { app: 'cache' } },
      spec: {
        replicas: 3,
        serviceName: 'cache',
        selector: { matchLabels: { app: 'cache' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
        template: podTemplate({ app: 'cache' }, 'redis', 'registry.example.com/team/cache:7.0'),
      },
    });
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'StatefulSet', 'beta', 'cache')?.status?.readyReplicas === 3, 15_000);
    const done = await h.deployAndWait('cache', 'beta', '7.2', { channel: 'C0OPS', timeoutMs: 20_000 });
    expect(`${JSON.stringify(done.args)}\n${threadText(done.args.ts)}`).toMatch(
      /partitioned roll out complete: 2 new pods have been updated \(partition 1/,
    );
    const sts = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'cache');
    expect(sts.spec.template.spec.containers.map((c: any) => c.image)).toEqual(['registry.example.com/team/cache:7.2', 'prom/exporter:1']);
    expect(sts.spec.updateStrategy.rollingUpdate.partition).toBe(1);
    expect(sts.status.updatedReplicas).toBe(2);
    const images = h.kube
      .list('v1', 'Pod', 'beta')
      .filter((p) => p.metadata.name.startsWith('cache-'))
      .map((p) => [p.metadata.name, p.spec.containers[0].image])
      .sort();
    expect(images).toEqual([
      ['cache-0', 'registry.example.com/team/cache:7.0'],
      ['cache-1', 'registry.example.com/team/cache:7.2'],
      ['cache-2', 'registry.example.com/team/cache:7.2'],
    ]);
  });

  it('describes an adopted StatefulSet and shows the events of it, its revisions and its pods', async () => {
    const described = await answer((await run('describe cache beta')).responseUrl);
    expect(described).toMatch(/StatefulSet `cache` · namespace `beta` · 3 of 3 ready · updateStrategy RollingUpdate \(partition 1\)/);
    expect(described).toMatch(/image: registry\.example\.com\/team\/cache:7\.2/);
    expect(described).toMatch(/image: prom\/exporter:1/);
    expect(described).toMatch(/cache-2 +Running/);
    const events = await answer((await run('events cache beta')).responseUrl);
    expect(events).toMatch(/SuccessfulCreate ×\d+.* on StatefulSet\/cache/);
  });

  it('scales and restarts an adopted StatefulSet', async () => {
    await run('scale cache beta 4');
    await h.waitForFinal(/:white_check_mark: scale cache in beta to 4/, { since, timeoutMs: 20_000 });
    expect(h.kube.get('apps/v1', 'StatefulSet', 'beta', 'cache').spec.replicas).toBe(4);
  });

  it('deploys and restarts an adopted DaemonSet, leaving its other container alone', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'log-shipper', namespace: 'beta' },
      spec: {
        selector: { matchLabels: { app: 'log-shipper' } },
        template: podTemplate({ app: 'log-shipper' }, 'shipper', 'registry.example.com/team/logship:1.0'),
      },
    });
    await h.kube.waitFor(() => {
      const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'log-shipper');
      return ds?.status?.desiredNumberScheduled > 0 && ds.status.numberAvailable === ds.status.desiredNumberScheduled;
    }, 15_000);
    await h.deployAndWait('logship', 'beta', '1.1', { channel: 'C0OPS', timeoutMs: 20_000 });
    const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'log-shipper');
    expect(ds.spec.template.spec.containers.map((c: any) => c.image)).toEqual(['registry.example.com/team/logship:1.1', 'prom/exporter:1']);
    await run('restart logship beta');
    await h.waitForFinal(/:white_check_mark: restart logship in beta/, { since, timeoutMs: 20_000 });
    expect(
      h.kube.get('apps/v1', 'DaemonSet', 'beta', 'log-shipper').spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'],
    ).toMatch(/^\d{4}-/);
  });

  it('edits the ConfigMap an adopted DaemonSet names and restarts it; refuses a GitOps-tracked one and an app that names none', async () => {
    h.kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'log-shipper-config',
        namespace: 'beta',
        annotations: { 'argocd.argoproj.io/tracking-id': 'shipper:/ConfigMap:beta/log-shipper-config' },
      },
      data: { LEVEL: 'info' },
    });
    const tracked = await answer((await run('config logship beta set LEVEL=debug')).responseUrl);
    expect(tracked).toMatch(
      /Nothing was changed: the Argo CD application `shipper` manages ConfigMap `log-shipper-config`.*gitops: allowDrift/,
    );
    const cm = h.kube.get('v1', 'ConfigMap', 'beta', 'log-shipper-config');
    expect(cm.data).toEqual({ LEVEL: 'info' });
    h.kube.update({ ...cm, metadata: { ...cm.metadata, annotations: {} } });

    since = h.mark();
    await run('config logship beta set LEVEL=debug');
    const done = await h.waitForFinal(/:white_check_mark: config set LEVEL on logship in beta/, { since, timeoutMs: 20_000 });
    expect(threadText(done.args.ts)).toMatch(
      /log-shipper-config: LEVEL: `info` → `debug` — pods of daemonset log-shipper restart to load it/,
    );
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'log-shipper-config').data).toEqual({ LEVEL: 'debug' });
    const ds = h.kube.get('apps/v1', 'DaemonSet', 'beta', 'log-shipper');
    expect(ds.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-/);
    expect(ds.spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBeUndefined();
    expect(await answer((await run('config logship beta')).responseUrl)).toMatch(/log-shipper-config.*LEVEL=debug/s);

    const none = await run('config cache beta set LEVEL=debug');
    expect(String(none.json.text)).toMatch(/cache is the adopted statefulset `cache` and its config names no ConfigMap.*configMap: <name>/);
  });

  it('lists every kind of workload of the configured apps in status <env>, and nothing else', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stranger', namespace: 'beta' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'stranger' } }, template: podTemplate({ app: 'stranger' }, 'x', 'x:1') },
    });
    const text = await answer((await run('status beta')).responseUrl);
    expect(text).toMatch(/beta: 4 workloads, \d+ not fully available/);
    expect(text).toMatch(/db +StatefulSet +2\/2 +2 +2 +registry\.example\.com\/team\/db:/);
    expect(text).toMatch(/agent +DaemonSet +(\d+)\/\1 .*registry\.example\.com\/team\/agent:/);
    expect(text).toMatch(/cache +StatefulSet +4\/4 .*registry\.example\.com\/team\/cache:7\.2/);
    expect(text).toMatch(/logship +DaemonSet .*registry\.example\.com\/team\/logship:1\.1/);
    expect(text).not.toMatch(/stranger/);
  });

  it('acts only on configured apps', async () => {
    const res = await run('restart log-shipper beta');
    expect(JSON.stringify(res.json)).toMatch(/no app `log-shipper` in the bot's config/);
  });
});
