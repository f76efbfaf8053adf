/** The kube emulator honours request options as the apiserver does: dry runs, DELETE options, field validation, eviction, openapi for kubectl. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default', 'dry', 'del', 'unk', 'evict', 'kubectl'] });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-req-'));
  kubeconfig = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function kubectl(args: string[], input?: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  if (input !== undefined) {
    const file = join(dir, `in-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, (Array.isArray(input) ? input : [input]).map((d) => toYaml(d)).join('---\n'));
    args = args.map((a) => (a === '@' ? file : a));
  }
  try {
    const { stdout, stderr } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    if (typeof err?.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const CT = {
  json: 'application/json',
  jsonPatch: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = CT.json,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function deployment(name: string, image = 'nginx:1', replicas = 2): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

describe('kube emulator request options', () => {
  it('dry runs create, update, every patch type and apply: validated and defaulted, nothing stored, no watch event', async () => {
    const base = '/apis/apps/v1/namespaces/dry/deployments';
    const rvBefore = emu.resourceVersion();
    const created = await call('POST', `${base}?dryRun=All`, deployment('web'));
    expect(created.status).toBe(201);
    expect(created.body.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.resourceVersion).toBeUndefined();
    const invalid = await call('POST', `${base}?dryRun=All`, {
      ...deployment('web'),
      spec: { ...deployment('web').spec, selector: { matchLabels: { app: 'x' } } },
    });
    expect(invalid.status).toBe(422);
    const appliedNew = await call('PATCH', `${base}/web?dryRun=All&fieldManager=me`, deployment('web'), CT.apply);
    expect(appliedNew.status).toBe(201);
    expect(emu.resourceVersion()).toBe(rvBefore);
    expect(emu.get('apps/v1', 'Deployment', 'dry', 'web')).toBeUndefined();

    expect((await call('POST', base, deployment('web'))).status).toBe(201);
    await emu.waitFor(() => emu.get('apps/v1', 'Deployment', 'dry', 'web')?.status?.observedGeneration === 1, 10_000, 'the controller');
    const watched: string[] = [];
    const ctl = new AbortController();
    let stream: Promise<void> = Promise.resolve();
    emu.pauseController();
    const rv = emu.resourceVersion();
    try {
      // the server sends the headers once the watch is registered
      const w = await fetch(`${emu.url}${base}?watch=true&resourceVersion=${rv}`, { signal: ctl.signal });
      stream = (async () => {
        const reader = w.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          watched.push(Buffer.from(value).toString());
        }
      })().catch(() => undefined);
      const image = (o: any): string => o.spec.template.spec.containers[0].image;
      const cur = emu.get('apps/v1', 'Deployment', 'dry', 'web');
      const put = await call('PUT', `${base}/web?dryRun=All`, {
        ...cur,
        spec: { ...cur.spec, template: { ...cur.spec.template, spec: { containers: [{ name: 'web', image: 'nginx:put' }] } } },
      });
      expect(put.status).toBe(200);
      expect(image(put.body)).toBe('nginx:put');
      expect(put.body.metadata.generation).toBe(2);
      const merge = await call('PATCH', `${base}/web?dryRun=All`, { spec: { replicas: 5 } }, CT.merge);
      expect(merge.body.spec.replicas).toBe(5);
      const smp = await call(
        'PATCH',
        `${base}/web?dryRun=All`,
        { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:smp' }] } } } },
        CT.strategic,
      );
      expect(image(smp.body)).toBe('nginx:smp');
      const jp = await call('PATCH', `${base}/web?dryRun=All`, [{ op: 'replace', path: '/spec/replicas', value: 7 }], CT.jsonPatch);
      expect(jp.body.spec.replicas).toBe(7);
      const ssa = await call('PATCH', `${base}/web?dryRun=All&fieldManager=me&force=true`, deployment('web', 'nginx:ssa'), CT.apply);
      expect(image(ssa.body)).toBe('nginx:ssa');
      expect(ssa.body.metadata.managedFields.map((m: any) => m.manager)).toContain('me');
      const refused = await call('PATCH', `${base}/web?dryRun=All`, { spec: { selector: { matchLabels: { app: 'other' } } } }, CT.merge);
      expect(refused.status).toBe(422);
      const scale = await call('PATCH', `${base}/web/scale?dryRun=All`, { spec: { replicas: 9 } }, CT.merge);
      expect(scale.body.spec.replicas).toBe(9);
      const del = await call('DELETE', `${base}/web?dryRun=All`);
      expect(del.status).toBe(200);
      expect(emu.resourceVersion()).toBe(rv);
      const stored = emu.get('apps/v1', 'Deployment', 'dry', 'web');
      expect(stored.spec.replicas).toBe(2);
      expect(image(stored)).toBe('nginx:1');
    } finally {
      emu.resumeController();
    }
    // a real write reaches the watch; none of the dry runs did
    await call('PATCH', `${base}/web`, { metadata: { labels: { marker: 'real' } } }, CT.merge);
    await emu.waitFor(() => watched.join('').includes('"marker":"real"') || undefined, 10_000, 'the real write on the watch');
    ctl.abort();
    await stream;
    const seen = watched.join('');
    for (const image of ['nginx:put', 'nginx:smp', 'nginx:ssa']) expect(seen).not.toContain(image);
    expect(seen).not.toContain('"replicas":5');
  });

  it('refuses a dryRun value other than All on every write with 422 on the options kind, and changes nothing', async () => {
    const base = '/apis/apps/v1/namespaces/dry/deployments';
    await call('POST', base, deployment('opts'));
    // Only the requests below may move the resourceVersion: the controller waits.
    emu.pauseController();
    const rv = emu.resourceVersion();
    const cases: Array<[string, string, unknown, string, string]> = [
      ['POST', `${base}?dryRun=true`, deployment('opts2'), CT.json, 'CreateOptions'],
      ['PUT', `${base}/opts?dryRun=Foo`, deployment('opts', 'nginx:put'), CT.json, 'UpdateOptions'],
      ['PATCH', `${base}/opts?dryRun=`, { spec: { replicas: 5 } }, CT.merge, 'PatchOptions'],
      ['PATCH', `${base}/opts?dryRun=All&dryRun=Server&fieldManager=me`, deployment('opts', 'nginx:ssa'), CT.apply, 'PatchOptions'],
      ['PATCH', `${base}/opts/scale?dryRun=all`, { spec: { replicas: 9 } }, CT.merge, 'PatchOptions'],
      ['DELETE', `${base}/opts?dryRun=None`, undefined, CT.json, 'DeleteOptions'],
      ['DELETE', `${base}/opts`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Everything'] }, CT.json, 'DeleteOptions'],
    ];
    for (const [method, path, body, type, kind] of cases) {
      const res = await call(method, path, body, type);
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { group: 'meta.k8s.io', kind } });
      expect(res.body.message).toContain(`${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value:`);
      expect(res.body.message).toContain('supported values: "All"');
    }
    expect(emu.resourceVersion()).toBe(rv);
    expect(emu.get('apps/v1', 'Deployment', 'dry', 'opts2')).toBeUndefined();
    expect(emu.get('apps/v1', 'Deployment', 'dry', 'opts').spec.replicas).toBe(2);
    emu.resumeController();
  });

  it(
    'honours DELETE options: dryRun keeps, Orphan leaves dependents without the owner reference, preconditions answer 409',
    { timeout: 60_000 },
    async () => {
      const base = '/apis/apps/v1/namespaces/del/deployments';
      await call('POST', base, deployment('web'));
      await emu.waitFor(() => emu.list('v1', 'Pod', 'del').filter((p) => p.status?.phase === 'Running').length === 2, 5000, 'pods running');
      const dry = await call('DELETE', `${base}/web`, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] });
      expect(dry.status).toBe(200);
      expect(emu.get('apps/v1', 'Deployment', 'del', 'web')).toBeDefined();
      const d = emu.get('apps/v1', 'Deployment', 'del', 'web');
      const wrongUid = await call('DELETE', `${base}/web`, { preconditions: { uid: 'not-the-uid' } });
      expect(wrongUid.status).toBe(409);
      expect(wrongUid.body).toMatchObject({ reason: 'Conflict', code: 409, details: { name: 'web', group: 'apps', kind: 'deployments' } });
      expect(wrongUid.body.message).toBe(
        `Operation cannot be fulfilled on deployments.apps "web": StorageError: invalid object, Code: 4, Key: /registry/deployments/del/web, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${d.metadata.uid}`,
      );
      const wrongRv = await call('DELETE', `${base}/web`, { preconditions: { resourceVersion: '1' } });
      expect(wrongRv.status).toBe(409);
      expect(wrongRv.body.message).toContain(
        `Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${emu.get('apps/v1', 'Deployment', 'del', 'web').metadata.resourceVersion}`,
      );

      const k = await kubectl(['delete', '-n', 'del', 'deployment/web', '--cascade=orphan']);
      expect(k.stdout).toContain('deployment.apps "web" deleted');
      expect(emu.get('apps/v1', 'Deployment', 'del', 'web')).toBeUndefined();
      const [rs] = emu.list('apps/v1', 'ReplicaSet', 'del');
      expect(rs.metadata.ownerReferences).toBeUndefined();
      expect(emu.list('v1', 'Pod', 'del').filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid)).toHaveLength(2);

      const kdry = await kubectl(['delete', '-n', 'del', `replicaset/${rs.metadata.name}`, '--dry-run=server']);
      expect(kdry.stdout).toContain(`replicaset.apps "${rs.metadata.name}" deleted (server dry run)`);
      expect(emu.get('apps/v1', 'ReplicaSet', 'del', rs.metadata.name)).toBeDefined();
      // a plain delete cascades (background)
      await kubectl(['delete', '-n', 'del', `replicaset/${rs.metadata.name}`]);
      await emu.waitFor(() => emu.list('v1', 'Pod', 'del').length === 0, 5000, 'pods collected');
    },
  );

  it('drops unknown fields with a Warning (default), refuses them under fieldValidation=Strict, ignores them under Ignore; generation stays', async () => {
    const base = '/apis/apps/v1/namespaces/unk/deployments';
    const withUnknown = (): any => {
      const d = deployment('web');
      d.spec.bogus = true;
      d.spec.template.spec.containers[0].imag = 'typo';
      return d;
    };
    const strict = await call('POST', `${base}?fieldValidation=Strict`, withUnknown());
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imag", unknown field "spec.bogus"',
    );
    const warned = await call('POST', base, withUnknown());
    expect(warned.status).toBe(201);
    expect(warned.headers.get('warning')).toBe(
      '299 - "unknown field \\"spec.template.spec.containers[0].imag\\"", 299 - "unknown field \\"spec.bogus\\""',
    );
    expect(warned.body.spec.bogus).toBeUndefined();
    expect(warned.body.spec.template.spec.containers[0].imag).toBeUndefined();
    const patched = await call('PATCH', `${base}/web`, { spec: { bogus: 1 } }, CT.merge);
    expect(patched.status).toBe(200);
    expect(patched.body.metadata.generation).toBe(1);
    expect(patched.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
    const ignored = await call('PATCH', `${base}/web?fieldValidation=Ignore`, { spec: { bogus: 1 } }, CT.strategic);
    expect(ignored.headers.get('warning')).toBeNull();
    const strictPatch = await call('PATCH', `${base}/web?fieldValidation=Strict`, { spec: { bogus: 1 } }, CT.strategic);
    expect(strictPatch.status).toBe(400);
    expect(strictPatch.body.message).toBe('strict decoding error: unknown field "spec.bogus"');
    const strictApply = await call('PATCH', `${base}/web?fieldValidation=Strict&fieldManager=me`, withUnknown(), CT.apply);
    expect(strictApply.status).toBe(400);
    expect(strictApply.body.message).toBe(
      'failed to create typed patch object (unk/web; apps/v1, Kind=Deployment): .spec.template.spec.containers[0].imag: field not declared in schema\n.spec.bogus: field not declared in schema',
    );
    expect(emu.get('apps/v1', 'Deployment', 'unk', 'web').metadata.generation).toBe(1);
    // kubectl validates through the server (openapi v3 advertises fieldValidation): no --validate=false needed
    const k = await kubectl(['apply', '-n', 'unk', '-f', '@'], { ...withUnknown(), metadata: { name: 'k' } });
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    const kw = await kubectl(['apply', '--validate=warn', '-n', 'unk', '-f', '@'], { ...withUnknown(), metadata: { name: 'k' } });
    expect(kw.code).toBe(0);
    expect(kw.stderr).toContain('Warning: unknown field "spec.bogus"');
  });

  it('evicts pods through pods/eviction, refusing with 429 when a PodDisruptionBudget has no disruption left', async () => {
    await call('POST', '/apis/apps/v1/namespaces/evict/deployments', deployment('web', 'nginx:1', 3));
    await emu.waitFor(() => emu.get('apps/v1', 'Deployment', 'evict', 'web')?.status?.availableReplicas === 3, 5000, 'available');
    await call('POST', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web' },
      spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } },
    });
    const [pod] = emu.list('v1', 'Pod', 'evict');
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: 'evict' } };
    const refused = await call('POST', `/api/v1/namespaces/evict/pods/${pod.metadata.name}/eviction`, eviction);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }] },
    });
    await call('PATCH', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets/web', { spec: { minAvailable: 2 } }, CT.merge);
    const ok = await call('POST', `/api/v1/namespaces/evict/pods/${pod.metadata.name}/eviction`, eviction);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect(emu.get('v1', 'Pod', 'evict', pod.metadata.name)).toBeUndefined();
  });

  it(
    'serves kubectl apply (client-side and --server-side), --dry-run=server and diff without --validate=false',
    { timeout: 60_000 },
    async () => {
      const first = await kubectl(['apply', '-n', 'kubectl', '-f', '@'], deployment('web'));
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe('deployment.apps/web created\n');
      const again = await kubectl(['apply', '-n', 'kubectl', '-f', '@'], deployment('web'));
      expect(again.stdout).toBe('deployment.apps/web unchanged\n');
      const dry = await kubectl(['apply', '--dry-run=server', '-n', 'kubectl', '-f', '@'], deployment('web', 'nginx:2'));
      expect(dry.stdout).toBe('deployment.apps/web configured (server dry run)\n');
      expect(emu.get('apps/v1', 'Deployment', 'kubectl', 'web').spec.template.spec.containers[0].image).toBe('nginx:1');
      const diff = await kubectl(['diff', '-n', 'kubectl', '-f', '@'], deployment('web', 'nginx:2'));
      expect(diff.code).toBe(1);
      expect(diff.stdout).toContain('-      - image: nginx:1\n+      - image: nginx:2');
      expect(emu.get('apps/v1', 'Deployment', 'kubectl', 'web').spec.template.spec.containers[0].image).toBe('nginx:1');
      const none = await kubectl(['diff', '-n', 'kubectl', '-f', '@'], deployment('web'));
      expect(none.code).toBe(0);
      const ssa = await kubectl(['apply', '--server-side', '-n', 'kubectl', '-f', '@'], deployment('web', 'nginx:3'));
      expect(ssa.stderr).toBe('');
      expect(ssa.stdout).toBe('deployment.apps/web serverside-applied\n');
      const conflict = await kubectl(
        ['apply', '--server-side', '--field-manager=other', '-n', 'kubectl', '-f', '@'],
        deployment('web', 'nginx:4'),
      );
      expect(conflict.code).not.toBe(0);
      expect(conflict.stderr).toContain(
        'error: Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.template.spec.containers[name="web"].image',
      );
    },
  );
});
