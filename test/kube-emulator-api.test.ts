/** The kube emulator's API through client-node and kubectl: patch types, Status bodies, leases, access reviews. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiError, apply, deployment, merge, strategic } from './support/kube-client.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let coord: k8s.CoordinationV1Api;
let authz: k8s.AuthorizationV1Api;
let dir: string;
let kubeconfigPath: string;

const NAMESPACES = ['default', 'patch', 'errors', 'lease', 'authz'];

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: NAMESPACES });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-'));
  kubeconfigPath = await emu.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator', 'other']);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  kc.setCurrentContext('emulator');
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  coord = kc.makeApiClient(k8s.CoordinationV1Api);
  authz = kc.makeApiClient(k8s.AuthorizationV1Api);
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kube emulator API', () => {
  it('patches with merge, strategic merge, JSON patch and server-side apply', async () => {
    await apps.createNamespacedDeployment({ namespace: 'patch', body: deployment('api', 'registry.example.com/api:1.0', 1) });

    // merge patch
    let d = await apps.patchNamespacedDeployment(
      { namespace: 'patch', name: 'api', body: { metadata: { labels: { team: 'a' } }, spec: { replicas: 2 } } },
      merge,
    );
    expect(d.spec?.replicas).toBe(2);
    expect(d.metadata?.labels).toEqual({ app: 'api', team: 'a' });
    expect(d.metadata?.generation).toBe(2);
    d = await apps.patchNamespacedDeployment({ namespace: 'patch', name: 'api', body: { metadata: { labels: { team: null } } } }, merge);
    expect(d.metadata?.labels).toEqual({ app: 'api' });
    expect(d.metadata?.generation).toBe(2); // metadata-only change

    // strategic merge: containers and env merge by name, $patch: delete removes
    d = await apps.patchNamespacedDeployment(
      {
        namespace: 'patch',
        name: 'api',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    env: [
                      { name: 'A', value: '1' },
                      { name: 'B', value: '2' },
                    ],
                  },
                  { name: 'sidecar', image: 'envoy:1.30' },
                ],
              },
            },
          },
        },
      },
      strategic,
    );
    let containers = d.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    expect(containers[0]!.image).toBe('registry.example.com/api:1.0');
    expect(containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    d = await apps.patchNamespacedDeployment(
      {
        namespace: 'patch',
        name: 'api',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'app', env: [{ name: 'A', $patch: 'delete' }] },
                  { name: 'sidecar', $patch: 'delete' },
                ],
              },
            },
          },
        },
      },
      strategic,
    );
    containers = d.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual(['app']);
    expect(containers[0]!.env).toEqual([{ name: 'B', value: '2' }]);

    // JSON patch is the default content type
    d = await apps.patchNamespacedDeployment({
      namespace: 'patch',
      name: 'api',
      body: [
        { op: 'test', path: '/spec/replicas', value: 2 },
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
      ],
    });
    expect(d.spec?.replicas).toBe(3);
    expect(d.metadata?.annotations?.note).toBe('x');
    const failedTest = await apiError(
      apps.patchNamespacedDeployment({ namespace: 'patch', name: 'api', body: [{ op: 'test', path: '/spec/replicas', value: 9 }] }),
    );
    expect(failedTest.code).toBe(422);
    // a merge body sent as JSON patch
    const wrongType = await apiError(apps.patchNamespacedDeployment({ namespace: 'patch', name: 'api', body: { spec: { replicas: 1 } } }));
    expect(wrongType.code).toBe(400);
    expect(wrongType.body.message).toContain('cannot unmarshal');
    const unsupported = await apiError(
      apps.patchNamespacedDeployment(
        { namespace: 'patch', name: 'api', body: { spec: {} } },
        k8s.setHeaderOptions('Content-Type', 'application/xml'),
      ),
    );
    expect(unsupported.code).toBe(415);
    expect(unsupported.body.reason).toBe('UnsupportedMediaType');

    // server-side apply: create, update, prune what the manager stopped applying
    const cm = (data: Record<string, string>): k8s.V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'api-config', namespace: 'patch' },
      data,
    });
    const noManager = await apiError(
      core.patchNamespacedConfigMap({ namespace: 'patch', name: 'api-config', body: cm({ A: '1' }) }, apply),
    );
    expect(noManager.code).toBe(422);
    expect(noManager.body.message).toContain('fieldManager');
    const first = await core.patchNamespacedConfigMap(
      { namespace: 'patch', name: 'api-config', body: cm({ A: '1', B: '2' }), fieldManager: 'k8s-chatops', force: true },
      apply,
    );
    expect(first.data).toEqual({ A: '1', B: '2' });
    expect(first.metadata?.managedFields?.[0]).toMatchObject({ manager: 'k8s-chatops', operation: 'Apply' });
    const second = await core.patchNamespacedConfigMap(
      { namespace: 'patch', name: 'api-config', body: cm({ A: '10', C: '3' }), fieldManager: 'k8s-chatops', force: true },
      apply,
    );
    expect(second.data).toEqual({ A: '10', C: '3' });
    expect(second.metadata?.uid).toBe(first.metadata?.uid);

    // dry run leaves the stored object alone
    await core.patchNamespacedConfigMap({ namespace: 'patch', name: 'api-config', body: { data: { D: '4' } }, dryRun: 'All' }, merge);
    expect(emu.get('v1', 'ConfigMap', 'patch', 'api-config').data).toEqual({ A: '10', C: '3' });
  });

  it('answers 404, 409 and 422 with Status bodies shaped like the real apiserver', async () => {
    const nf = await apiError(apps.readNamespacedDeployment({ namespace: 'errors', name: 'x' }));
    expect(nf).toEqual({
      code: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'deployments.apps "x" not found',
        reason: 'NotFound',
        details: { name: 'x', group: 'apps', kind: 'deployments' },
        code: 404,
      },
    });
    const nfPod = await apiError(core.deleteNamespacedPod({ namespace: 'errors', name: 'p' }));
    expect(nfPod.body).toMatchObject({ message: 'pods "p" not found', details: { name: 'p', kind: 'pods' } });
    expect(nfPod.body.details.group).toBeUndefined();

    await core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: { name: 'c' }, data: { a: '1' } } });
    const exists = await apiError(core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: { name: 'c' } } }));
    expect(exists.code).toBe(409);
    expect(exists.body).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "c" already exists' });

    const stale = await core.readNamespacedConfigMap({ namespace: 'errors', name: 'c' });
    await core.replaceNamespacedConfigMap({ namespace: 'errors', name: 'c', body: { ...stale, data: { a: '2' } } });
    const conflict = await apiError(
      core.replaceNamespacedConfigMap({ namespace: 'errors', name: 'c', body: { ...stale, data: { a: '3' } } }),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    expect(conflict.body.message).toContain('the object has been modified; please apply your changes to the latest version and try again');

    const badName = await apiError(
      apps.createNamespacedDeployment({ namespace: 'errors', body: { ...deployment('ok', 'x:1'), metadata: { name: 'Bad_Name' } } }),
    );
    expect(badName.code).toBe(422);
    expect(badName.body.reason).toBe('Invalid');
    expect(badName.body.details).toMatchObject({ name: 'Bad_Name', group: 'apps', kind: 'Deployment' });
    expect(badName.body.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    expect(badName.body.message).toContain('a lowercase RFC 1123 subdomain');

    const noName = await apiError(core.createNamespacedConfigMap({ namespace: 'errors', body: { metadata: {} } }));
    expect(noName.code).toBe(422);
    expect(noName.body.details.causes[0]).toMatchObject({ reason: 'FieldValueRequired', field: 'metadata.name' });

    const badSelector = deployment('sel', 'x:1');
    badSelector.spec!.selector = { matchLabels: { app: 'other' } };
    const sel = await apiError(apps.createNamespacedDeployment({ namespace: 'errors', body: badSelector }));
    expect(sel.code).toBe(422);
    expect(sel.body.message).toContain('`selector` does not match template `labels`');

    const noNs = await apiError(core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'c' } } }));
    expect(noNs.body).toMatchObject({ code: 404, message: 'namespaces "nowhere" not found' });
  });

  it('leases use optimistic concurrency', async () => {
    const now = new Date();
    const lease = await coord.createNamespacedLease({
      namespace: 'lease',
      body: {
        metadata: { name: 'chatops-alerts' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
      },
    });
    const renewed = await coord.replaceNamespacedLease({
      namespace: 'lease',
      name: 'chatops-alerts',
      body: { ...lease, spec: { ...lease.spec, renewTime: new Date() } },
    });
    expect(Number(renewed.metadata!.resourceVersion)).toBeGreaterThan(Number(lease.metadata!.resourceVersion));
    const steal = await apiError(
      coord.replaceNamespacedLease({
        namespace: 'lease',
        name: 'chatops-alerts',
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'pod-b' } },
      }),
    );
    expect(steal.code).toBe(409);
    expect(steal.body.message).toContain('leases.coordination.k8s.io "chatops-alerts"');
    const read = await coord.readNamespacedLease({ namespace: 'lease', name: 'chatops-alerts' });
    expect(read.spec?.holderIdentity).toBe('pod-a');
    expect(new Date(read.spec!.renewTime!).getTime()).toBeGreaterThan(now.getTime() - 1);
  });

  it('answers SelfSubjectAccessReviews and refuses denied requests with 403', async () => {
    emu.deny({ verb: 'delete', resource: 'pods', namespace: 'authz' });
    emu.deny({ verb: 'get', resource: 'pods', subresource: 'log' });
    const review = (verb: string, resource: string, namespace: string, subresource?: string) =>
      authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace, subresource } } } });
    expect((await review('delete', 'pods', 'authz')).status?.allowed).toBe(false);
    expect((await review('delete', 'pods', 'other')).status?.allowed).toBe(true);
    expect((await review('list', 'pods', 'authz')).status?.allowed).toBe(true);
    expect((await review('get', 'pods', 'authz', 'log')).status?.allowed).toBe(false);
    const denied = await apiError(core.deleteNamespacedPod({ namespace: 'authz', name: 'x' }));
    expect(denied.code).toBe(403);
    expect(denied.body).toMatchObject({
      reason: 'Forbidden',
      message: 'pods "x" is forbidden: User "emulator-user" cannot delete resource "pods" in API group "" in the namespace "authz"',
    });
    emu.clearDenies();
    expect((await review('delete', 'pods', 'authz')).status?.allowed).toBe(true);
  });

  it('works with kubectl', async () => {
    const ok = await promisify(execFile)('kubectl', ['version', '--client'], { timeout: 5000 }).then(
      () => true,
      () => false,
    );
    if (!ok) return; // kubectl not installed here
    emu.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'for-kubectl', namespace: 'default' }, data: { a: 'b' } });
    const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfigPath, 'get', 'configmaps', '-n', 'default'], {
      timeout: 10_000,
    });
    expect(stdout).toContain('for-kubectl');
    const nodes = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfigPath, '--context', 'other', 'get', 'nodes'], {
      timeout: 10_000,
    });
    expect(nodes.stdout).toMatch(/node-1\s+Ready/);
  });
});
