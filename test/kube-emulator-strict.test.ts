/** The kube emulator refuses what the real apiserver refuses, with its Status bodies (and kubectl prints them the same way): Services, quantities, label keys. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CT, kubectlWith, labelledDeployment, rawCall } from './support/kube-raw.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default', 'svc', 'res', 'meta'] });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-strict-'));
  kubeconfig = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const kubectl = (args: string[], input?: unknown) => kubectlWith(kubeconfig, dir, args, input);
const call = (method: string, path: string, body?: unknown, contentType?: string) => rawCall(emu.url, method, path, body, contentType);
const deployment = labelledDeployment;

describe('kube emulator strictness', () => {
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
