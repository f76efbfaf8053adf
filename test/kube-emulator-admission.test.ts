/**
 * ServiceAccount admission in the kube emulator, as a real cluster does it: `default` in every namespace, a pod naming
 * a missing service account refused with 403, and the controllers' FailedCreate events and ReplicaFailure conditions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledDeployment, rawCall } from './support/kube-raw.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default', 'pods', 'rs', 'sts', 'ds'], nodes: 2 });
});

afterAll(async () => {
  await emu?.close();
});

const call = (method: string, path: string, body?: unknown) => rawCall(emu.url, method, path, body);

function pod(meta: Record<string, unknown>, serviceAccountName?: string): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta,
    spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'app', image: 'nginx:1' }] },
  };
}

function serviceAccount(name: string): any {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } };
}

function warnings(ns: string, kind: string, name: string): any[] {
  return emu
    .list('v1', 'Event', ns)
    .filter((e) => e.type === 'Warning' && e.involvedObject.kind === kind && e.involvedObject.name === name);
}

describe('kube emulator ServiceAccount admission', () => {
  it('makes a default ServiceAccount in every namespace, new ones included, and admits pods that name none', async () => {
    expect(emu.get('v1', 'ServiceAccount', 'pods', 'default')).toBeDefined();
    expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } })).status).toBe(
      201,
    );
    expect(emu.get('v1', 'ServiceAccount', 'fresh', 'default')).toBeDefined();
    const ok = await call('POST', '/api/v1/namespaces/fresh/pods', pod({ name: 'plain' }));
    expect(ok.status).toBe(201);
    expect(ok.body.spec.serviceAccountName).toBe('default');
    // deleted, it comes back (the serviceaccounts controller), unless its namespace goes
    expect((await call('DELETE', '/api/v1/namespaces/fresh/serviceaccounts/default')).status).toBe(200);
    await emu.waitFor(() => emu.get('v1', 'ServiceAccount', 'fresh', 'default'), 5000, 'default again');
    expect((await call('DELETE', '/api/v1/namespaces/fresh')).status).toBe(200);
    expect(emu.get('v1', 'ServiceAccount', 'fresh', 'default')).toBeUndefined();
  });

  it('refuses a pod whose service account does not exist with 403, naming it by its generateName before one is made', async () => {
    const named = await call('POST', '/api/v1/namespaces/pods/pods', pod({ name: 'web-1' }, 'foo'));
    expect(named.status).toBe(403);
    expect(named.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      details: { name: 'web-1', kind: 'pods' },
      message: 'pods "web-1" is forbidden: error looking up service account pods/foo: serviceaccount "foo" not found',
    });
    const generated = await call('POST', '/api/v1/namespaces/pods/pods', pod({ generateName: 'web-' }, 'foo'));
    expect(generated.body.message).toBe(
      'pods "web-" is forbidden: error looking up service account pods/foo: serviceaccount "foo" not found',
    );
    // admission runs for a dry run too; a missing namespace is its own 404
    expect((await call('POST', '/api/v1/namespaces/pods/pods?dryRun=All', pod({ name: 'web-2' }, 'foo'))).status).toBe(403);
    expect((await call('POST', '/api/v1/namespaces/nowhere/pods', pod({ name: 'web-3' }, 'foo'))).status).toBe(404);
    expect(emu.list('v1', 'Pod', 'pods').filter((p) => p.metadata.name.startsWith('web-'))).toEqual([]);

    expect((await call('POST', '/api/v1/namespaces/pods/serviceaccounts', serviceAccount('foo'))).status).toBe(201);
    expect((await call('POST', '/api/v1/namespaces/pods/pods', pod({ name: 'web-1' }, 'foo'))).status).toBe(201);
  });

  it('a ReplicaSet that cannot create pods records FailedCreate and ReplicaFailure; the Deployment copies it; both clear once it can', async () => {
    const d = labelledDeployment('web', { app: 'web' });
    d.spec.template.spec.serviceAccountName = 'web-sa';
    expect((await call('POST', '/apis/apps/v1/namespaces/rs/deployments', d)).status).toBe(201);
    const rs = await emu.waitFor(
      () => emu.list('apps/v1', 'ReplicaSet', 'rs').find((r) => r.status?.conditions?.length),
      5000,
      'ReplicaFailure',
    );
    const expected = `pods "${rs.metadata.name}-" is forbidden: error looking up service account rs/web-sa: serviceaccount "web-sa" not found`;
    expect(rs.status.conditions).toEqual([
      { type: 'ReplicaFailure', status: 'True', lastTransitionTime: expect.any(String), reason: 'FailedCreate', message: expected },
    ]);
    expect(rs.status.replicas).toBe(0);
    const event = warnings('rs', 'ReplicaSet', rs.metadata.name)[0];
    expect(event).toMatchObject({
      reason: 'FailedCreate',
      message: `Error creating: ${expected}`,
      source: { component: 'replicaset-controller' },
    });
    const failure = await emu.waitFor(
      () => emu.get('apps/v1', 'Deployment', 'rs', 'web')?.status?.conditions?.find((c: any) => c.type === 'ReplicaFailure'),
      5000,
      'the Deployment condition',
    );
    expect(failure).toEqual({
      type: 'ReplicaFailure',
      status: 'True',
      lastUpdateTime: rs.status.conditions[0].lastTransitionTime,
      lastTransitionTime: rs.status.conditions[0].lastTransitionTime,
      reason: 'FailedCreate',
      message: expected,
    });
    // the controller keeps retrying (the event counts up) until the service account exists
    await emu.waitFor(() => (warnings('rs', 'ReplicaSet', rs.metadata.name)[0]?.count ?? 0) > 2, 5000, 'retries');
    expect((await call('POST', '/api/v1/namespaces/rs/serviceaccounts', serviceAccount('web-sa'))).status).toBe(201);
    const done = await emu.waitFor(
      () => {
        const live = emu.get('apps/v1', 'Deployment', 'rs', 'web');
        return live?.status?.availableReplicas === 2 ? live : undefined;
      },
      8000,
      'the rollout',
    );
    expect(done.status.conditions.map((c: any) => c.type)).toEqual(['Available', 'Progressing']);
    expect(emu.get('apps/v1', 'ReplicaSet', 'rs', rs.metadata.name).status.conditions).toBeUndefined();
  });

  it('a StatefulSet and a DaemonSet record FailedCreate with their own wording, and create their pods once the account exists', async () => {
    const template = {
      metadata: { labels: { app: 'db' } },
      spec: { serviceAccountName: 'db-sa', containers: [{ name: 'db', image: 'pg:16' }] },
    };
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template },
    };
    expect((await call('POST', '/apis/apps/v1/namespaces/sts/statefulsets', sts)).status).toBe(201);
    const stsEvent = await emu.waitFor(() => warnings('sts', 'StatefulSet', 'db')[0], 5000, 'the StatefulSet event');
    expect(stsEvent).toMatchObject({
      reason: 'FailedCreate',
      message:
        'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: error looking up service account sts/db-sa: serviceaccount "db-sa" not found',
      source: { component: 'statefulset-controller' },
    });
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        template: { ...template, spec: { ...template.spec, serviceAccountName: 'agent-sa' } },
      },
    };
    expect((await call('POST', '/apis/apps/v1/namespaces/ds/daemonsets', ds)).status).toBe(201);
    const dsEvent = await emu.waitFor(() => warnings('ds', 'DaemonSet', 'agent')[0], 5000, 'the DaemonSet event');
    expect(dsEvent).toMatchObject({
      reason: 'FailedCreate',
      message:
        'Error creating: pods "agent-" is forbidden: error looking up service account ds/agent-sa: serviceaccount "agent-sa" not found',
      source: { component: 'daemonset-controller' },
    });
    expect(emu.list('v1', 'Pod', 'sts')).toEqual([]);
    expect(emu.list('v1', 'Pod', 'ds')).toEqual([]);

    await call('POST', '/api/v1/namespaces/sts/serviceaccounts', serviceAccount('db-sa'));
    await call('POST', '/api/v1/namespaces/ds/serviceaccounts', serviceAccount('agent-sa'));
    await emu.waitFor(() => emu.get('apps/v1', 'StatefulSet', 'sts', 'db')?.status?.readyReplicas === 2, 8000, 'the StatefulSet pods');
    await emu.waitFor(() => emu.get('apps/v1', 'DaemonSet', 'ds', 'agent')?.status?.numberAvailable === 2, 8000, 'the DaemonSet pods');
  });
});
