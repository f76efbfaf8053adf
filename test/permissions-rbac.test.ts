/** deploy/kustomize grants exactly what REQUIRED_PERMISSIONS (src/kube/permissions.ts) lists: every overlay, every component. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REQUIRED_PERMISSIONS, rbacResource, rbacRules, type PermissionScope, type RequiredPermission } from '../src/kube/permissions.js';
import { BOT_NAMESPACE, KUSTOMIZE, kustomize as render, kustomizeWith } from './support/kustomize.js';

const BOT_SUBJECT = { kind: 'ServiceAccount', name: 'k8s-chatops', namespace: BOT_NAMESPACE };

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const kustomize = (dir: string) => render<K8sObject>(dir);
/** Renders the base (without workloads) plus components, from a throw-away kustomization. */
const kustomizeBaseWith = (components: string[]) => kustomizeWith<K8sObject>('base', components);

const key = (group: string, resource: string, verb: string) => `${verb} ${resource} (${group === '' ? 'core' : group})`;

/** Every (verb, resource[/sub], group) a set of rules grants. */
function granted(rules: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    expect(rule.resourceNames, 'rules are not narrowed by resourceNames').toBeUndefined();
    expect(rule.nonResourceURLs, 'no nonResourceURLs').toBeUndefined();
    for (const g of rule.apiGroups ?? []) for (const r of rule.resources ?? []) for (const v of rule.verbs ?? []) out.add(key(g, r, v));
  }
  return [...out].sort();
}

const needed = (filter: (p: RequiredPermission) => boolean) =>
  [...new Set(REQUIRED_PERMISSIONS.filter(filter).map((p) => key(p.group, rbacResource(p), p.verb)))].sort();

function expectExactly(actual: string[], expected: string[], where: string, scope: PermissionScope | 'label' | 'debug' | 'run') {
  const missing = expected.filter((k) => !actual.includes(k));
  const extra = actual.filter((k) => !expected.includes(k));
  const perms = REQUIRED_PERMISSIONS.filter((p) =>
    scope === 'label' || scope === 'debug' || scope === 'run' ? p.optional === scope : p.scope === scope && !p.optional,
  );
  const hint =
    `${where} must grant exactly what REQUIRED_PERMISSIONS (src/kube/permissions.ts) lists for ${scope}.\n` +
    `missing: ${missing.join(', ') || 'none'}\nextra: ${extra.join(', ') || 'none'}\nexpected rules:\n${stringify(rbacRules(perms))}`;
  expect({ missing, extra }, hint).toEqual({ missing: [], extra: [] });
}

describe('RBAC in deploy/kustomize grants exactly REQUIRED_PERMISSIONS', () => {
  let objects: K8sObject[];
  let withLabels: K8sObject[];
  let withDebug: K8sObject[];
  let withExec: K8sObject[];
  beforeAll(async () => {
    [objects, withLabels, withDebug, withExec] = await Promise.all([
      kustomize(join(KUSTOMIZE, 'overlays/all-in-one')),
      kustomizeBaseWith(['components/node-labels']),
      kustomizeBaseWith(['components/debug-pods']),
      kustomizeBaseWith(['components/pod-exec']),
    ]);
  });

  const roles = (objs: K8sObject[], kind: 'Role' | 'ClusterRole') =>
    objs.filter((o) => o.kind === kind) as Array<K8sObject & { rules: Rule[] }>;

  it('grants the namespaced permissions in each managed namespace, and nothing more', () => {
    const managed = roles(objects, 'Role').filter((r) => r.metadata.namespace !== BOT_NAMESPACE);
    expect(managed.map((r) => r.metadata.namespace)).toEqual(['beta']);
    for (const role of managed) {
      expectExactly(
        granted(role.rules),
        needed((p) => p.scope === 'namespace' && !p.optional),
        `Role ${role.metadata.namespace}/${role.metadata.name}`,
        'namespace',
      );
    }
  });

  it('adds pod create/delete only with the debug-pods component, bound in the managed namespace only', () => {
    const base = new Set(roles(objects, 'ClusterRole').map((r) => r.metadata.name));
    const added = roles(withDebug, 'ClusterRole').filter((r) => !base.has(r.metadata.name));
    expect(added.map((r) => r.metadata.name)).toEqual(['k8s-chatops-debug-pods']);
    expectExactly(
      granted(added.flatMap((r) => r.rules)),
      needed((p) => p.optional === 'debug'),
      'components/debug-pods',
      'debug',
    );
    const bindings = withDebug.filter((o) => o.metadata.name === 'k8s-chatops-debug-pods' && o.kind.endsWith('Binding'));
    expect(bindings.map((b) => `${b.kind}/${b.metadata.namespace}`)).toEqual(['RoleBinding/beta']);
  });

  it('adds pods/exec only with the pod-exec component, bound in the managed namespace only', () => {
    const base = new Set(roles(objects, 'ClusterRole').map((r) => r.metadata.name));
    const added = roles(withExec, 'ClusterRole').filter((r) => !base.has(r.metadata.name));
    expect(added.map((r) => r.metadata.name)).toEqual(['k8s-chatops-pod-exec']);
    expectExactly(
      granted(added.flatMap((r) => r.rules)),
      needed((p) => p.optional === 'run'),
      'components/pod-exec',
      'run',
    );
    const bindings = withExec.filter((o) => o.metadata.name === 'k8s-chatops-pod-exec' && o.kind.endsWith('Binding'));
    expect(bindings.map((b) => `${b.kind}/${b.metadata.namespace}`)).toEqual(['RoleBinding/beta']);
  });

  it("grants the Lease permissions in the bot's own namespace, and nothing more", () => {
    const own = roles(objects, 'Role').filter((r) => r.metadata.namespace === BOT_NAMESPACE);
    expectExactly(
      granted(own.flatMap((r) => r.rules)),
      needed((p) => p.scope === 'bot-namespace'),
      `Roles in ${BOT_NAMESPACE}`,
      'bot-namespace',
    );
  });

  it('grants the cluster-wide permissions without the optional ones', () => {
    expectExactly(
      granted(roles(objects, 'ClusterRole').flatMap((r) => r.rules)),
      needed((p) => p.scope === 'cluster' && !p.optional),
      'ClusterRoles of the base',
      'cluster',
    );
  });

  it('adds node patching only with the node-labels component', () => {
    const base = new Set(roles(objects, 'ClusterRole').map((r) => r.metadata.name));
    const added = roles(withLabels, 'ClusterRole').filter((r) => !base.has(r.metadata.name));
    expect(added.map((r) => r.metadata.name)).toEqual(['k8s-chatops-node-labels']);
    expectExactly(
      granted(added.flatMap((r) => r.rules)),
      needed((p) => p.optional === 'label'),
      'components/node-labels',
      'label',
    );
  });

  it("binds every role to the bot's service account only, never to cluster-admin, never to secrets", () => {
    for (const objs of [objects, withLabels, withDebug, withExec]) {
      const bindings = objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as Array<
        K8sObject & { roleRef: { kind: string; name: string }; subjects: unknown[] }
      >;
      const definedRoles = new Set(
        [...roles(objs, 'Role'), ...roles(objs, 'ClusterRole')].map((r) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`),
      );
      expect(bindings.length).toBeGreaterThan(0);
      for (const b of bindings) {
        expect(b.subjects).toEqual([BOT_SUBJECT]);
        expect(b.roleRef.name).not.toMatch(/admin|edit/);
        const ns = b.roleRef.kind === 'Role' ? (b.metadata.namespace ?? '') : '';
        expect(
          definedRoles.has(`${b.roleRef.kind}/${ns}/${b.roleRef.name}`),
          `${b.kind} ${b.metadata.name} binds a role the manifests define`,
        ).toBe(true);
      }
      const allRules = [...roles(objs, 'Role'), ...roles(objs, 'ClusterRole')].flatMap((r) => r.rules);
      expect(granted(allRules).filter((k) => /secrets|\*/.test(k))).toEqual([]);
    }
  });

  it('adds a managed namespace the way deploy/README.md says: the same Role, bound to the bot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatops-kustomize-'));
    try {
      await mkdir(join(dir, 'managed-prod'));
      await writeFile(
        join(dir, 'kustomization.yaml'),
        stringify({ resources: [relative(dir, join(KUSTOMIZE, 'overlays/all-in-one')), 'managed-prod'] }),
      );
      await writeFile(
        join(dir, 'managed-prod', 'kustomization.yaml'),
        stringify({ namespace: 'prod', resources: [relative(join(dir, 'managed-prod'), join(KUSTOMIZE, 'base/managed-namespace'))] }),
      );
      const objs = await kustomize(dir);
      const managed = roles(objs, 'Role').filter((r) => r.metadata.namespace !== BOT_NAMESPACE);
      expect(managed.map((r) => r.metadata.namespace).sort()).toEqual(['beta', 'prod']);
      for (const role of managed)
        expectExactly(
          granted(role.rules),
          needed((p) => p.scope === 'namespace' && !p.optional),
          `Role ${role.metadata.namespace}/${role.metadata.name}`,
          'namespace',
        );
      const prodBinding = objs.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'prod') as
        (K8sObject & { subjects: unknown[] }) | undefined;
      expect(prodBinding?.subjects).toEqual([BOT_SUBJECT]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has the same RBAC in every overlay', async () => {
    const rbacOf = (objs: K8sObject[]) =>
      objs
        .filter((o) => /Role/.test(o.kind))
        .map((o) => stringify(o))
        .sort();
    for (const overlay of ['split-roles', 'with-redis']) {
      expect(rbacOf(await kustomize(join(KUSTOMIZE, 'overlays', overlay))), overlay).toEqual(rbacOf(objects));
    }
  });
});
