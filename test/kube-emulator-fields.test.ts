/** The kube emulator keeps what the apiserver keeps: immutable selectors, managedFields per manager, server-side apply conflicts and pruning. */
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
  emu = await startKubeEmulator({ namespaces: ['default', 'sel', 'ssa'] });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-fields-'));
  kubeconfig = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const kubectl = (args: string[], input?: unknown) => kubectlWith(kubeconfig, dir, args, input);
const call = (method: string, path: string, body?: unknown, contentType?: string) => rawCall(emu.url, method, path, body, contentType);
const deployment = labelledDeployment;

describe('kube emulator fields and managers', () => {
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
});
