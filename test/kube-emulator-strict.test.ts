/** The kube emulator refuses what the real apiserver refuses, with its Status bodies (and kubectl prints them the same way). */
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
  emu = await startKubeEmulator({ namespaces: ['default', 'sel', 'ssa', 'svc', 'res', 'meta'] });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-strict-'));
  kubeconfig = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function kubectl(args: string[], input?: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  if (input !== undefined) {
    const file = join(dir, `in-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, toYaml(input));
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
    headers: { 'Content-Type': contentType, 'User-Agent': 'strict-test/1.0' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function deployment(name: string, labels: Record<string, string>, image = 'nginx:1', resources?: unknown): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image, ...(resources ? { resources } : {}) }] } },
    },
  };
}

describe('kube emulator strictness', () => {
  it(
    'keeps workload selectors immutable (Deployment, DaemonSet: 422 field is immutable; StatefulSet: spec Forbidden)',
    { timeout: 60_000 },
    async () => {
      const created = await kubectl(['apply', '-n', 'sel', '-f', '@'], deployment('web', { app: 'web' }));
      expect(created.code).toBe(0);
      const changed = await kubectl(['apply', '-n', 'sel', '-f', '@'], deployment('web', { app: 'web', tier: 'front' }));
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toContain(
        'The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      );
      // the same refusal through server-side apply, with the Status shape
      const ssa = await call(
        'PATCH',
        '/apis/apps/v1/namespaces/sel/deployments/web?fieldManager=k8s-chatops&force=true',
        deployment('web', { app: 'other' }),
        CT.apply,
      );
      expect(ssa.status).toBe(422);
      expect(ssa.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
        details: { name: 'web', group: 'apps', kind: 'Deployment', causes: [{ reason: 'FieldValueInvalid', field: 'spec.selector' }] },
      });
      expect(emu.get('apps/v1', 'Deployment', 'sel', 'web').spec.selector).toEqual({ matchLabels: { app: 'web' } });

      const ds = {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent' },
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: { metadata: { labels: { app: 'agent', x: 'y' } }, spec: { containers: [{ name: 'a', image: 'a:1' }] } },
        },
      };
      expect((await call('POST', '/apis/apps/v1/namespaces/sel/daemonsets', ds)).status).toBe(201);
      const dsChange = await call(
        'PATCH',
        '/apis/apps/v1/namespaces/sel/daemonsets/agent',
        { spec: { selector: { matchLabels: { x: 'y' } } } },
        CT.merge,
      );
      expect(dsChange.status).toBe(422);
      expect(dsChange.body.message).toContain(
        'DaemonSet.apps "agent" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"agent", "x":"y"}',
      );

      const sts = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } },
        },
      };
      expect((await call('POST', '/apis/apps/v1/namespaces/sel/statefulsets', sts)).status).toBe(201);
      const stsChange = await call('PATCH', '/apis/apps/v1/namespaces/sel/statefulsets/db', { spec: { serviceName: 'other' } }, CT.merge);
      expect(stsChange.status).toBe(422);
      expect(stsChange.body.message).toBe(
        "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      );
      expect(
        (
          await call(
            'PATCH',
            '/apis/apps/v1/namespaces/sel/statefulsets/db',
            { spec: { replicas: 2, updateStrategy: { rollingUpdate: { partition: 1 } } } },
            CT.merge,
          )
        ).status,
      ).toBe(200);
    },
  );

  it(
    'tracks managedFields per manager: server-side apply conflicts (409) name the other manager unless forced; /scale writes own spec.replicas',
    { timeout: 60_000 },
    async () => {
      const base = '/apis/apps/v1/namespaces/ssa/deployments/web';
      expect((await call('PATCH', `${base}?fieldManager=helm`, deployment('web', { app: 'web' }), CT.apply)).status).toBe(201);
      const mine = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } },
      };
      const refused = await call('PATCH', `${base}?fieldManager=k8s-chatops`, mine, CT.apply);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.template.spec.containers[name="web"].image',
        reason: 'Conflict',
        details: {
          causes: [
            {
              reason: 'FieldManagerConflict',
              message: 'conflict with "helm" using apps/v1',
              field: '.spec.template.spec.containers[name="web"].image',
            },
          ],
        },
        code: 409,
      });
      expect(emu.get('apps/v1', 'Deployment', 'ssa', 'web').spec.template.spec.containers[0].image).toBe('nginx:1');
      // the same value is shared ownership, not a conflict
      const same = await call(
        'PATCH',
        `${base}?fieldManager=k8s-chatops`,
        { ...mine, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } } },
        CT.apply,
      );
      expect(same.status).toBe(200);
      const forced = await call('PATCH', `${base}?fieldManager=k8s-chatops&force=true`, mine, CT.apply);
      expect(forced.status).toBe(200);
      const managers = (o: any): string[] =>
        o.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}${m.subresource ? `/${m.subresource}` : ''}`).sort();
      expect(managers(forced.body)).toEqual(['helm/Apply', 'k8s-chatops/Apply']);
      const helm = forced.body.metadata.managedFields.find((m: any) => m.manager === 'helm');
      expect(JSON.stringify(helm.fieldsV1)).not.toContain('f:image');
      expect(JSON.stringify(helm.fieldsV1)).toContain('f:replicas');
      // helm now conflicts with us on the image
      const back = await call('PATCH', `${base}?fieldManager=helm`, deployment('web', { app: 'web' }), CT.apply);
      expect(back.status).toBe(409);
      expect(back.body.message).toBe(
        'Apply failed with 1 conflict: conflict with "k8s-chatops" using apps/v1: .spec.template.spec.containers[name="web"].image',
      );

      // a /scale write takes spec.replicas (Update, subresource scale): helm's next apply of replicas conflicts with it
      const scaled = await call('PATCH', `${base}/scale?fieldManager=k8s-chatops-scale`, { spec: { replicas: 5 } }, CT.merge);
      expect(scaled.status).toBe(200);
      const after = emu.get('apps/v1', 'Deployment', 'ssa', 'web');
      const scaleEntry = after.metadata.managedFields.find((m: any) => m.subresource === 'scale');
      expect(scaleEntry).toMatchObject({
        manager: 'k8s-chatops-scale',
        operation: 'Update',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      });
      const helmAgain = await call(
        'PATCH',
        `${base}?fieldManager=helm&force=true`,
        {
          ...deployment('web', { app: 'web' }),
          spec: {
            ...deployment('web', { app: 'web' }).spec,
            template: { ...deployment('web', { app: 'web' }).spec.template, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } },
          },
        },
        CT.apply,
      );
      expect(helmAgain.status).toBe(200);
      const conflict = await call('PATCH', `${base}?fieldManager=k8s-chatops`, { ...mine, spec: { replicas: 7 } }, CT.apply);
      expect(conflict.status).toBe(409);
      expect(conflict.body.message).toBe('Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas');

      // Update operations (no ?fieldManager): named after the User-Agent; two conflicting managers list both
      expect(
        (await call('PATCH', base, { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:3' }] } } } }, CT.strategic))
          .status,
      ).toBe(200);
      const two = await call(
        'PATCH',
        `${base}?fieldManager=k8s-chatops`,
        { ...mine, spec: { replicas: 7, template: mine.spec.template } },
        CT.apply,
      );
      expect(two.status).toBe(409);
      expect(two.body.message).toMatch(
        /^Apply failed with 2 conflicts: conflicts with "helm" using apps\/v1:\n- \.spec\.replicas\nconflicts with "strict-test" using apps\/v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ:\n- \.spec\.template\.spec\.containers\[name="web"\]\.image$/,
      );
      expect(two.body.details.causes.map((c: any) => c.field)).toEqual([
        '.spec.replicas',
        '.spec.template.spec.containers[name="web"].image',
      ]);

      // kubectl prints the conflict and its advice
      const k = await kubectl(['apply', '--server-side', '-n', 'ssa', '-f', '@'], deployment('web', { app: 'web' }, 'nginx:9'));
      expect(k.code).not.toBe(0);
      expect(k.stderr).toContain('error: Apply failed with 1 conflict: conflict with "strict-test" using apps/v1 at ');
      expect(k.stderr).toContain('--force-conflicts');
    },
  );

  it('drops fields an applier no longer applies, unless another manager owns them', async () => {
    const base = '/apis/apps/v1/namespaces/ssa/deployments/prune';
    const d = deployment('prune', { app: 'prune' });
    d.spec.template.spec.containers.push({ name: 'sidecar', image: 'side:1' });
    d.metadata.labels = { team: 'a', keep: 'yes' };
    expect((await call('PATCH', `${base}?fieldManager=ci`, d, CT.apply)).status).toBe(201);
    expect(
      (
        await call(
          'PATCH',
          `${base}?fieldManager=ops`,
          { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'prune', labels: { keep: 'yes' } } },
          CT.apply,
        )
      ).status,
    ).toBe(200);
    const d2 = deployment('prune', { app: 'prune' });
    const res = await call('PATCH', `${base}?fieldManager=ci`, d2, CT.apply);
    expect(res.status).toBe(200);
    expect(res.body.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
    expect(res.body.metadata.labels).toEqual({ keep: 'yes' });
  });

  it('validates Services like the apiserver: DNS-1035 names, ports, types, clusterIP and node ports', async () => {
    const svc = (name: string, spec: Record<string, unknown> = {}): any => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
    });
    const digit = await call('POST', '/api/v1/namespaces/svc/services', svc('2fa'));
    expect(digit.status).toBe(422);
    expect(digit.body.message).toBe(
      "Service \"2fa\" is invalid: metadata.name: Invalid value: \"2fa\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
    expect(digit.body.details).toMatchObject({
      name: '2fa',
      kind: 'Service',
      causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }],
    });
    const k = await kubectl(['apply', '-n', 'svc', '-f', '@'], svc('2fa'));
    expect(k.stderr).toContain('The Service "2fa" is invalid: metadata.name: Invalid value: "2fa": a DNS-1035 label');

    const badPorts = await call(
      'POST',
      '/api/v1/namespaces/svc/services',
      svc('ports', { ports: [{ port: 0 }, { port: 80, protocol: 'HTTP' }], type: 'Weird' }),
    );
    expect(badPorts.status).toBe(422);
    expect(badPorts.body.details.causes.map((c: any) => `${c.field}: ${c.message}`)).toEqual([
      'spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'spec.ports[0].name: Required value',
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].name: Required value',
      'spec.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);

    const created = await call('POST', '/api/v1/namespaces/svc/services', svc('web'));
    expect(created.status).toBe(201);
    const ip = created.body.spec.clusterIP;
    // a PUT without clusterIP keeps it; changing it is refused
    const put = await call('PUT', '/api/v1/namespaces/svc/services/web', {
      ...svc('web'),
      metadata: { name: 'web', resourceVersion: created.body.metadata.resourceVersion },
    });
    expect(put.status).toBe(200);
    expect(put.body.spec.clusterIP).toBe(ip);
    const moved = await call('PATCH', '/api/v1/namespaces/svc/services/web', { spec: { clusterIP: '10.96.99.99' } }, CT.merge);
    expect(moved.status).toBe(422);
    expect(moved.body.message).toBe(
      'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.99.99"}: may not change once set',
    );

    // NodePort allocates node ports in range; back to ClusterIP drops them; a node port on ClusterIP is refused
    const np = await call('PATCH', '/api/v1/namespaces/svc/services/web', { spec: { type: 'NodePort' } }, CT.strategic);
    expect(np.status).toBe(200);
    expect(np.body.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(np.body.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect(np.body.spec.clusterIP).toBe(ip);
    const back = await call('PATCH', '/api/v1/namespaces/svc/services/web', { spec: { type: 'ClusterIP' } }, CT.strategic);
    expect(back.status).toBe(200);
    expect(back.body.spec.ports[0].nodePort).toBeUndefined();
    const forbidden = await call(
      'PATCH',
      '/api/v1/namespaces/svc/services/web',
      { spec: { ports: [{ port: 80, nodePort: 30080 }] } },
      CT.strategic,
    );
    expect(forbidden.status).toBe(422);
    expect(forbidden.body.message).toBe(
      'Service "web" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'',
    );
    const range = await call(
      'PATCH',
      '/api/v1/namespaces/svc/services/web',
      { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] } },
      CT.strategic,
    );
    expect(range.status).toBe(422);
    expect(range.body.message).toBe(
      'Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  it('refuses quantities that do not parse (400 on create, 422 on patch) and requests above limits (422)', async () => {
    const lots = await call(
      'POST',
      '/apis/apps/v1/namespaces/res/deployments',
      deployment('lots', { app: 'lots' }, 'nginx:1', { requests: { cpu: 'lots' } }),
    );
    expect(lots.status).toBe(400);
    expect(lots.body).toMatchObject({
      reason: 'BadRequest',
      message:
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    });
    const applied = await call(
      'PATCH',
      '/apis/apps/v1/namespaces/res/deployments/lots?fieldManager=k8s-chatops',
      deployment('lots', { app: 'lots' }, 'nginx:1', { requests: { cpu: 'lots' } }),
      CT.apply,
    );
    expect(applied.status).toBe(422);
    expect(applied.body.message).toMatch(
      /^ "" is invalid: patch: Invalid value: "map\[apiVersion:apps\/v1 kind:Deployment .*cpu:lots.*": quantities must match the regular expression/,
    );
    expect(emu.get('apps/v1', 'Deployment', 'res', 'lots')).toBeUndefined();
    const suffix = await call(
      'POST',
      '/apis/apps/v1/namespaces/res/deployments',
      deployment('gb', { app: 'gb' }, 'nginx:1', { limits: { memory: '1mk' } }),
    );
    expect(suffix.body.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: unable to parse quantity\'s suffix');

    const over = await call(
      'POST',
      '/apis/apps/v1/namespaces/res/deployments',
      deployment('over', { app: 'over' }, 'nginx:1', { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } }),
    );
    expect(over.status).toBe(422);
    expect(over.body.message).toBe(
      'Deployment.apps "over" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    );
    const ok = await call(
      'POST',
      '/apis/apps/v1/namespaces/res/deployments',
      deployment('fine', { app: 'fine' }, 'nginx:1', { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 1, memory: '1024Mi' } }),
    );
    expect(ok.status).toBe(201);
  });

  it('refuses label and annotation keys that are not qualified names', async () => {
    const cm = (labels: Record<string, string>, annotations: Record<string, string> = {}): any => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', labels, annotations },
      data: {},
    });
    const bad = await call(
      'POST',
      '/api/v1/namespaces/meta/configmaps',
      cm({ 'bad key': 'x', 'Example.com/ok': 'y' }, { 'a/b/c': 'z', 'Team.Example.com/Owner': 'fine' }),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: any) => `${c.field}: ${c.message}`)).toEqual([
      "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      "metadata.labels: Invalid value: \"Example.com/ok\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
    const tmpl = deployment('tmpl', { app: 'tmpl' });
    tmpl.spec.template.metadata.labels['-x'] = 'y';
    const t = await call('POST', '/apis/apps/v1/namespaces/meta/deployments', tmpl);
    expect(t.status).toBe(422);
    expect(t.body.details.causes[0].field).toBe('spec.template.metadata.labels');
  });
});
