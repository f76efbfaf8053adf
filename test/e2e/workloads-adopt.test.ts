import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/** Adopted workloads (`workload:` in config), refusals to take over, and apps owned by teams. */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  legacy:
    image: registry.example.com/team/legacy
    progressDeadlineSeconds: 5
    workload: { kind: Deployment, name: legacy-web, container: web }
  charted:
    image: registry.example.com/team/charted
    port: 8080
  tracked:
    image: registry.example.com/team/tracked
    workload: { kind: Deployment, name: tracked-web, container: web }
  synced:
    image: registry.example.com/team/synced
    workload: { kind: Deployment, name: synced-web, container: web }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
  C0TEAM: { environments: [beta], commands: ["*"], apps: [legacy] }
alerts: []
`;

const h = useHarness({ name: 'workloads-adopt', config: CONFIG });

/** The private answer to a command (response_url), once the worker has answered. */
const answer = async (responseUrl: string): Promise<string> => {
  const res = await h.answer(responseUrl, (text) => !/Queued/.test(text));
  return String(res.body?.text ?? '');
};
const writesTo = (ns: string, from: number) =>
  h.kube.requests.slice(from).filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && r.path.includes(`/namespaces/${ns}/`));

function legacyDeployment(
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: unknown[] } = {},
) {
  const selector = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'beta',
      labels: { app: name, team: 'legacy', ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ...(extra.managedFields ? { managedFields: extra.managedFields } : {}),
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, tier: 'web' } },
        spec: {
          volumes: [{ name: 'cache', emptyDir: {} }],
          containers: [
            {
              name: 'web',
              image: 'registry.example.com/team/legacy:1.0.0',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
              volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            },
            { name: 'proxy', image: 'envoyproxy/envoy:v1.30.0', ports: [{ name: 'admin', containerPort: 9901 }] },
          ],
        },
      },
    },
  };
}

/** Everything but what `deploy` may change: the web image, the restart annotation, our own annotations, bookkeeping. */
function untouched(d: any) {
  const copy = structuredClone(d);
  delete copy.metadata.resourceVersion;
  delete copy.metadata.generation;
  delete copy.metadata.managedFields;
  delete copy.status;
  for (const k of Object.keys(copy.metadata.annotations ?? {}))
    if (k.startsWith('k8s-chatops.io/') || k.startsWith('deployment.kubernetes.io/') || k === 'kubernetes.io/change-cause')
      delete copy.metadata.annotations[k];
  delete copy.spec.template.metadata.annotations;
  copy.spec.template.spec.containers[0].image = '(image)';
  return copy;
}

describe('adopting an existing Deployment', () => {
  it("changes only the named container's image: selector, sidecar, probe, volume, labels and replicas stay", async () => {
    h.kube.create(legacyDeployment('legacy-web'));
    await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web')?.status?.availableReplicas === 2, 10_000);
    const before = h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web');

    const done = await h.deployAndWait('legacy', 'beta', '1.1.0', { channel: 'C0TEAM' });
    expect(h.threadText('C0TEAM', done.args.ts)).toContain(
      'container web of deployment legacy-web: image registry.example.com/team/legacy:1.0.0 → registry.example.com/team/legacy:1.1.0',
    );

    const after = h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web');
    expect(after.spec.template.spec.containers[0].image).toBe('registry.example.com/team/legacy:1.1.0');
    expect(untouched(after)).toEqual(untouched(before));
    expect(after.spec.template.spec.containers[1].image).toBe('envoyproxy/envoy:v1.30.0');
    // A strategic merge patch under our own manager, like `kubectl set image`; never an apply of the whole object.
    const writes = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/legacy-web'));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.contentType).toContain('application/strategic-merge-patch+json');
    expect(writes[0]?.query.fieldManager).toBe('k8s-chatops-set-image');
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'legacy-config')).toBeUndefined();
  });

  it('restarts the pods when the same tag is deployed again', async () => {
    const done = await h.deployAndWait('legacy', 'beta', '1.1.0', { channel: 'C0TEAM' });
    expect(h.threadText('C0TEAM', done.args.ts)).toContain('same image again (pods restart to pull it)');
    const after = h.kube.get('apps/v1', 'Deployment', 'beta', 'legacy-web');
    expect(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-/);
  });

  it('refuses when the container is not in the workload, naming the ones it has', async () => {
    h.kube.create({ ...legacyDeployment('tracked-web'), metadata: { ...legacyDeployment('tracked-web').metadata, name: 'tracked-web' } });
    const live = h.kube.get('apps/v1', 'Deployment', 'beta', 'tracked-web');
    live.spec.template.spec.containers[0].name = 'app';
    h.kube.update(live);
    const res = await h.command('deploy tracked beta 2.0.0', { channel: 'C0OPS' });
    expect(await answer(res.responseUrl)).toMatch(/has no container `web` \(it has `app`, `proxy`\)/);
    h.kube.remove('apps/v1', 'Deployment', 'beta', 'tracked-web');
  });
});

describe('never taking over silently', () => {
  it('refuses a Helm-owned Deployment, Service and ConfigMap, explains who manages them and how to adopt, and writes nothing', async () => {
    const helm = {
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'charted', 'meta.helm.sh/release-namespace': 'beta' },
    };
    h.kube.create({ ...legacyDeployment('charted', helm) });
    h.kube.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'charted', namespace: 'beta', ...helm },
      spec: { selector: { app: 'charted' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    h.kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'charted-config', namespace: 'beta', ...helm },
      data: { MODE: 'helm' },
    });
    const before = h.kube.get('apps/v1', 'Deployment', 'beta', 'charted');
    const from = h.kube.requests.length;

    const res = await h.command('deploy charted beta 3.0.0', { channel: 'C0OPS' });
    const text = await answer(res.responseUrl);
    expect(text).toContain('Nothing was changed');
    expect(text).toMatch(/deployment `charted` is managed by the Helm release `charted` \(namespace beta\)/);
    expect(text).toMatch(/service `charted` is managed by the Helm release/);
    expect(text).toMatch(/configmap `charted-config` is managed by the Helm release/);
    expect(text).toContain(
      'workload: { kind: Deployment, name: charted, container: web }   # the container deploy sets: one of web, proxy',
    );
    expect(writesTo('beta', from)).toEqual([]);
    const after = h.kube.get('apps/v1', 'Deployment', 'beta', 'charted');
    expect([after.metadata.generation, after.spec, after.metadata.labels]).toEqual([
      before.metadata.generation,
      before.spec,
      before.metadata.labels,
    ]);
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'charted-config').data).toEqual({ MODE: 'helm' });
  });

  it('refuses an Argo CD-tracked Deployment unless the app allows drift', async () => {
    h.kube.create(
      legacyDeployment('tracked-web', { annotations: { 'argocd.argoproj.io/tracking-id': 'payments:apps/Deployment:beta/tracked-web' } }),
    );
    const from = h.kube.requests.length;
    const res = await h.command('deploy tracked beta 2.0.0', { channel: 'C0OPS' });
    const text = await answer(res.responseUrl);
    expect(text).toMatch(
      /Nothing was changed: the Argo CD application `payments` manages this workload and will put the image back at its next sync/,
    );
    expect(text).toContain('gitops: allowDrift');
    const rollback = await answer((await h.command('rollback tracked beta', { channel: 'C0OPS' })).responseUrl);
    expect(rollback).toMatch(
      /Nothing was changed: the Argo CD application `payments` manages this workload and would put its pod template back/,
    );
    expect(writesTo('beta', from)).toEqual([]);
  });

  it('reports an image field owned by a GitOps controller in managedFields and leaves it alone', async () => {
    const managedFields = [
      {
        manager: 'kustomize-controller',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
        },
      },
    ];
    h.kube.create(legacyDeployment('synced-web', { managedFields }));
    const from = h.kube.requests.length;
    const res = await h.command('deploy synced beta 2.0.0', { channel: 'C0OPS' });
    expect(await answer(res.responseUrl)).toMatch(
      /the GitOps controller `kustomize-controller` \(it owns the image field\) manages this workload and will put the image back/,
    );
    expect(writesTo('beta', from)).toEqual([]);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'synced-web').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/legacy:1.0.0',
    );
  });
});

describe('apps owned by teams', () => {
  it("refuses another team's app like a denied environment, naming the apps this channel may use", async () => {
    const res = await h.command('deploy charted beta 1.0.0', { channel: 'C0TEAM' });
    expect(res.json.text).toMatch(/may not touch the app `charted`[\s\S]*for the apps `legacy`/);
  });

  it("shows the channel's apps in help and access", async () => {
    const help = await h.command('help', { channel: 'C0TEAM' });
    expect(JSON.stringify(help.json)).toContain('for the apps `legacy`');
    const access = await h.command('access', { channel: 'C0TEAM' });
    expect(JSON.stringify(access.json)).toContain('for the apps `legacy`');
  });
});
