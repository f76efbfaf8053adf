import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let coord: k8s.CoordinationV1Api;
let authz: k8s.AuthorizationV1Api;
let dir: string;
let kubeconfigPath: string;

const NAMESPACES = ['default', 'deploy', 'patch', 'errors', 'watch', 'informer', 'lease', 'sched', 'fail', 'rollback', 'authz', 'deadline'];

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

function deployment(name: string, image: string, replicas = 2, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '128Mi' } } }], ...extra },
      },
    },
  };
}

/** Resolve with the first watched object the predicate accepts (client-node Watch; no polling). */
function watchUntil<T = any>(
  path: string,
  query: Record<string, string>,
  pred: (type: string, obj: any) => boolean,
  timeoutMs = 4000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let ctl: AbortController | undefined;
    let settled = false;
    const timer = setTimeout(() => finish(() => reject(new Error(`watch ${path} timed out`))), timeoutMs);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctl?.abort();
      fn();
    };
    new k8s.Watch(kc)
      .watch(
        path,
        query,
        (type, obj) => {
          if (pred(type, obj)) finish(() => resolve(obj as T));
        },
        (err) => {
          if (!settled && err) finish(() => reject(err instanceof Error ? err : new Error(String(err))));
        },
      )
      .then((c) => {
        ctl = c;
        if (settled) c.abort();
      }, reject);
  });
}

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      // client-node 1.4 gives the Status as a JSON string
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('expected an ApiException');
}

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

function podsOf(ns: string, app: string): any[] {
  return emu.list('v1', 'Pod', ns).filter((p) => p.metadata.labels?.app === app);
}

describe('kube emulator', () => {
  it('brings a Deployment to available through ReplicaSet and Pods (watched with client-node)', async () => {
    const done = watchUntil<k8s.V1Deployment>(
      '/apis/apps/v1/namespaces/deploy/deployments',
      { fieldSelector: 'metadata.name=web' },
      (_t, d) => (d.status?.conditions ?? []).some((c: any) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable'),
    );
    const created = await apps.createNamespacedDeployment({
      namespace: 'deploy',
      body: deployment('web', 'registry.example.com/web:1.0', 3),
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    const d = await done;
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');

    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'deploy' })).items;
    expect(rs).toHaveLength(1);
    const hash = rs[0]!.metadata!.labels!['pod-template-hash']!;
    expect(rs[0]!.metadata!.name).toBe(`web-${hash}`);
    expect(rs[0]!.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });

    const pods = (await core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web,pod-template-hash in (' + hash + ')' }))
      .items;
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.status?.phase).toBe('Running');
      expect(p.spec?.nodeName).toMatch(/^node-\d$/);
      expect(p.status?.containerStatuses?.[0]?.ready).toBe(true);
    }
    const onNode = await core.listNamespacedPod({ namespace: 'deploy', fieldSelector: `spec.nodeName=${pods[0]!.spec!.nodeName}` });
    expect(onNode.items.every((p) => p.spec?.nodeName === pods[0]!.spec!.nodeName)).toBe(true);

    // logs: default lines, tailLines, timestamps
    const log = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, container: 'app' });
    expect(log).toContain('starting app on :8080');
    const tail = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, tailLines: 2 });
    expect(tail.trimEnd().split('\n')).toHaveLength(2);
    const ts = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, tailLines: 1, timestamps: true });
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S/);

    // events the controllers and kubelet record
    const events = (
      await core.listNamespacedEvent({ namespace: 'deploy', fieldSelector: `involvedObject.name=${pods[0]!.metadata!.name}` })
    ).items;
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
    expect(events[0]!.involvedObject).toMatchObject({ kind: 'Pod', namespace: 'deploy', uid: pods[0]!.metadata!.uid });

    // scale subresource, then the ReplicaSet follows
    const scale = await apps.readNamespacedDeploymentScale({ namespace: 'deploy', name: 'web' });
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=web' } });
    await apps.patchNamespacedDeploymentScale({ namespace: 'deploy', name: 'web', body: { spec: { replicas: 1 } } }, merge);
    await emu.waitFor(
      () => podsOf('deploy', 'web').length === 1 && emu.get('apps/v1', 'Deployment', 'deploy', 'web')?.status?.replicas === 1,
      3000,
      'scale down',
    );
    expect(emu.get('apps/v1', 'Deployment', 'deploy', 'web').metadata.generation).toBe(2);

    // deleting the Deployment collects its ReplicaSets and Pods
    await apps.deleteNamespacedDeployment({ namespace: 'deploy', name: 'web' });
    await emu.waitFor(
      () => emu.list('apps/v1', 'ReplicaSet', 'deploy').length === 0 && emu.list('v1', 'Pod', 'deploy').length === 0,
      3000,
      'garbage collection',
    );
  });

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

  it('resumes a watch from a resourceVersion, and answers 410 Expired after compaction', async () => {
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'before' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'watch' });
    const rv = list.metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'after-1', labels: { pick: 'yes' } } } });
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'after-2' } } });

    const seen: string[] = [];
    await watchUntil('/api/v1/namespaces/watch/configmaps', { resourceVersion: rv }, (type, o) => {
      seen.push(`${type} ${o.metadata.name}`);
      return o.metadata.name === 'after-2';
    });
    expect(seen).toEqual(['ADDED after-1', 'ADDED after-2']);

    // label selector: an object that stops matching is reported as DELETED
    const changes: string[] = [];
    const gone = watchUntil('/api/v1/namespaces/watch/configmaps', { resourceVersion: rv, labelSelector: 'pick=yes' }, (type, o) => {
      changes.push(`${type} ${o.metadata.name}`);
      return type === 'DELETED';
    });
    await core.patchNamespacedConfigMap({ namespace: 'watch', name: 'after-1', body: { metadata: { labels: { pick: 'no' } } } }, merge);
    await gone;
    expect(changes).toEqual(['ADDED after-1', 'DELETED after-1']);

    emu.compactHistory();
    const expired = await watchUntil('/api/v1/namespaces/watch/configmaps', { resourceVersion: rv }, (type) => type === 'ERROR');
    expect(expired).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(expired.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('makeInformer re-lists after 410 without losing objects', async () => {
    for (const n of ['a', 'b']) await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: n } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informer/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'informer' }),
    );
    const added = new Set<string>();
    let waiters: Array<() => void> = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => {
      added.add(o.metadata!.name!);
      for (const w of waiters) w();
    });
    informer.on('error', (e) => errors.push(e));
    const addedAll = (names: string[]): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (names.every((n) => added.has(n))) resolve();
        };
        waiters.push(check);
        check();
      });
    await informer.start();
    await addedAll(['a', 'b']);
    const listsBefore = emu.requests.filter((r) => r.path === '/api/v1/namespaces/informer/configmaps' && !r.query.watch).length;

    // connection dropped, an object created meanwhile, history forgotten: the informer resumes from an
    // expired RV, gets the 410 ERROR event, re-lists, and sees the object
    emu.dropWatches();
    emu.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'informer' } });
    emu.compactHistory();
    await addedAll(['c']);
    const listsAfter = emu.requests.filter((r) => r.path === '/api/v1/namespaces/informer/configmaps' && !r.query.watch).length;
    expect(listsAfter).toBe(listsBefore + 1);
    expect(
      informer
        .list('informer')
        .map((o) => o.metadata!.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([]);

    // and it keeps watching after the re-list
    await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: 'd' } } });
    await addedAll(['d']);
    expect(errors).toEqual([]);
    await informer.stop(); // note: client-node 1.4 emits an AbortError on 'error' when stopped
    waiters = [];
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

  it('leaves unschedulable pods Pending with the scheduler sentence, and schedules them when capacity appears', async () => {
    const big = deployment('big', 'registry.example.com/big:1', 1);
    big.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '100m', memory: '64Gi' } };
    await apps.createNamespacedDeployment({ namespace: 'sched', body: big });
    const ev = await watchUntil<k8s.CoreV1Event>(
      '/api/v1/namespaces/sched/events',
      { fieldSelector: 'reason=FailedScheduling' },
      () => true,
    );
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(
      '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    const pod = podsOf('sched', 'big')[0];
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(ev.involvedObject).toMatchObject({ kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid });

    const picky = deployment('picky', 'registry.example.com/picky:1', 1, { nodeSelector: { disktype: 'ssd' } });
    await apps.createNamespacedDeployment({ namespace: 'sched', body: picky });
    const ev2 = await watchUntil<k8s.CoreV1Event>(
      '/api/v1/namespaces/sched/events',
      { fieldSelector: 'reason=FailedScheduling' },
      (_t, e) => e.message.includes('selector'),
    );
    expect(ev2.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );

    emu.addNode('node-big', { cpu: '16', memory: '128Gi', labels: { disktype: 'ssd' } });
    await emu.waitFor(
      () => podsOf('sched', 'big')[0]?.spec.nodeName === 'node-big' && podsOf('sched', 'picky')[0]?.spec.nodeName === 'node-big',
      3000,
      'rescheduling',
    );
    await emu.waitFor(() => emu.get('apps/v1', 'Deployment', 'sched', 'big')?.status?.availableReplicas === 1, 3000, 'big available');
  });

  it('plays image pull failures, crash loops and OOM kills', async () => {
    emu.setImageBehavior('registry.example.com/broken:v9', { kind: 'imagePullFailure' });
    emu.setImageBehavior('registry.example.com/crash:1', { kind: 'crashLoop', exitCode: 2, logLines: ['boot', 'panic: config missing'] });
    emu.setImageBehavior('registry.example.com/hog:1', { kind: 'oomKilled' });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('broken', 'registry.example.com/broken:v9', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('crash', 'registry.example.com/crash:1', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('hog', 'registry.example.com/hog:1', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('fine', 'registry.example.com/fine:1', 1) });

    const status = (app: string): any => podsOf('fail', app)[0]?.status?.containerStatuses?.[0];
    const pull = await emu.waitFor(
      () => status('broken')?.state?.waiting?.reason === 'ImagePullBackOff' && status('broken'),
      3000,
      'ImagePullBackOff',
    );
    expect(pull.state.waiting.message).toBe('Back-off pulling image "registry.example.com/broken:v9"');
    expect(podsOf('fail', 'broken')[0].status.phase).toBe('Pending');
    const pullEvents = (
      await core.listNamespacedEvent({
        namespace: 'fail',
        fieldSelector: `involvedObject.name=${podsOf('fail', 'broken')[0].metadata.name},reason=Failed`,
      })
    ).items;
    expect(pullEvents.map((e) => e.message)).toContain(
      'Failed to pull image "registry.example.com/broken:v9": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/broken:v9": failed to resolve reference "registry.example.com/broken:v9": registry.example.com/broken:v9: not found',
    );
    const waitingLog = await apiError(core.readNamespacedPodLog({ namespace: 'fail', name: podsOf('fail', 'broken')[0].metadata.name }));
    expect(waitingLog.code).toBe(400);
    expect(waitingLog.body.message).toContain('is waiting to start: trying and failing to pull image');

    const crash = await emu.waitFor(
      () => status('crash')?.restartCount >= 2 && status('crash').state.waiting?.reason === 'CrashLoopBackOff' && status('crash'),
      5000,
      'CrashLoopBackOff',
    );
    expect(crash.lastState.terminated).toMatchObject({ reason: 'Error', exitCode: 2 });
    expect(crash.state.waiting.message).toMatch(/^back-off \d+s restarting failed container=app pod=crash-\w+-\w+_fail\(/);
    const crashPod = podsOf('fail', 'crash')[0].metadata.name;
    expect(await core.readNamespacedPodLog({ namespace: 'fail', name: crashPod, previous: true })).toBe('boot\npanic: config missing\n');
    expect(await core.readNamespacedPodLog({ namespace: 'fail', name: crashPod, tailLines: 1 })).toBe('panic: config missing\n');
    const backoff = (await core.listNamespacedEvent({ namespace: 'fail', fieldSelector: `involvedObject.name=${crashPod},reason=BackOff` }))
      .items[0];
    expect(backoff?.type).toBe('Warning');
    expect(backoff?.message).toMatch(/^Back-off restarting failed container app in pod crash-/);

    const hog = await emu.waitFor(() => status('hog')?.lastState?.terminated?.reason === 'OOMKilled' && status('hog'), 3000, 'OOMKilled');
    expect(hog.lastState.terminated.exitCode).toBe(137);
    expect(hog.restartCount).toBeGreaterThanOrEqual(1);

    // on-demand OOM kill of a healthy pod: terminated now, CrashLoopBackOff, then running and ready again
    await emu.waitFor(() => status('fine')?.ready === true, 3000, 'fine ready');
    const fine = podsOf('fail', 'fine')[0];
    const finePod = fine.metadata.name;
    const killed = watchUntil<k8s.V1Pod>(
      '/api/v1/namespaces/fail/pods',
      { fieldSelector: `metadata.name=${finePod}`, resourceVersion: fine.metadata.resourceVersion },
      (t, p) => t === 'MODIFIED' && p.status?.containerStatuses?.[0]?.state?.terminated,
    );
    emu.oomKill('fail', finePod);
    const k = await killed;
    expect(k.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    const back = await emu.waitFor(() => status('fine')?.ready === true && status('fine'), 3000, 'ready after OOM kill');
    expect(back.restartCount).toBe(1);
    expect(back.lastState.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('reports ProgressDeadlineExceeded in real time', async () => {
    emu.setImageBehavior('registry.example.com/never:1', { kind: 'imagePullFailure' });
    const d = deployment('slow', 'registry.example.com/never:1', 1);
    d.spec!.progressDeadlineSeconds = 1;
    await apps.createNamespacedDeployment({ namespace: 'deadline', body: d });
    const failed = await watchUntil<k8s.V1Deployment>(
      '/apis/apps/v1/namespaces/deadline/deployments',
      { fieldSelector: 'metadata.name=slow' },
      (_t, o) => (o.status?.conditions ?? []).some((c: any) => c.type === 'Progressing' && c.status === 'False'),
      3000,
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      reason: 'ProgressDeadlineExceeded',
      message: expect.stringMatching(/^ReplicaSet "slow-\w+" has timed out progressing\.$/),
    });
  });

  it('rolls back by reusing the old ReplicaSet with a bumped revision', async () => {
    const rsOf = (): any[] => emu.list('apps/v1', 'ReplicaSet', 'rollback');
    const settled = (image: string) => () => {
      const d = emu.get('apps/v1', 'Deployment', 'rollback', 'app');
      return (
        d?.spec.template.spec.containers[0].image === image &&
        d.status?.updatedReplicas === 2 &&
        d.status?.availableReplicas === 2 &&
        d.status?.replicas === 2 &&
        d.status?.observedGeneration === d.metadata.generation &&
        podsOf('rollback', 'app').length === 2 &&
        d
      );
    };
    await apps.createNamespacedDeployment({ namespace: 'rollback', body: deployment('app', 'registry.example.com/app:v1') });
    await emu.waitFor(settled('registry.example.com/app:v1'), 3000, 'v1');
    await apps.patchNamespacedDeployment(
      {
        namespace: 'rollback',
        name: 'app',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/app:v2' }] } } } },
      },
      strategic,
    );
    await emu.waitFor(settled('registry.example.com/app:v2'), 3000, 'v2');
    expect(rsOf()).toHaveLength(2);
    const v1 = rsOf().find((rs) => rs.spec.template.spec.containers[0].image.endsWith(':v1'));
    expect(v1.spec.replicas).toBe(0);
    expect(v1.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');

    // what `kubectl rollout undo` does: copy the old template (minus pod-template-hash) into the Deployment
    const template = structuredClone(v1.spec.template);
    delete template.metadata.labels['pod-template-hash'];
    await apps.patchNamespacedDeployment({
      namespace: 'rollback',
      name: 'app',
      body: [{ op: 'replace', path: '/spec/template', value: template }],
    });
    const d = await emu.waitFor(settled('registry.example.com/app:v1'), 3000, 'rolled back');
    expect(rsOf()).toHaveLength(2);
    const reused = rsOf().find((rs) => rs.metadata.name === v1.metadata.name);
    expect(reused.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.spec.replicas).toBe(2);
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
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
