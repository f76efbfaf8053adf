import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { runCli } from '../src/cli.js';
import { freePort } from './support/redis-server.js';
import {
  REQUIRED_PERMISSIONS,
  describePermission,
  rbacResource,
  rbacRules,
  type PermissionScope,
  type RequiredPermission,
} from '../src/kube/permissions.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';
import { TEST_REDIS_URL } from './support/redis.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KUSTOMIZE = join(ROOT, 'deploy/kustomize');
const BOT_NAMESPACE = 'k8s-chatops';
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

/** `kubectl kustomize DIR`, no shell. */
async function kustomize(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Renders the base (without workloads) plus components, from a throw-away kustomization. */
async function kustomizeBaseWith(components: string[]): Promise<K8sObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'chatops-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(KUSTOMIZE, p));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [rel('base')],
        components: components.map(rel),
      }),
    );
    return await kustomize(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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

// ---------------------------------------------------------------------------
// What the code calls: client-node methods and watch paths in src/ and commands/.

interface ApiCall {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** true for a namespaced path */
  namespaced: boolean;
}
interface ClientMethod extends ApiCall {
  api: string;
}

const VERB_OF_PREFIX: Record<string, string> = {
  read: 'get',
  list: 'list',
  create: 'create',
  patch: 'patch',
  replace: 'update',
  delete: 'delete',
  deleteCollection: 'deletecollection',
};

/** Parses an API path: /api/v1/namespaces/{ns}/pods/{name}/log → pods/log in core, namespaced. */
function parseApiPath(path: string): Omit<ApiCall, 'verb'> | undefined {
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (segments[0] === 'api') {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    rest = segments.slice(3);
  } else return undefined;
  if (rest[0] === 'watch') rest = rest.slice(1);
  let namespaced = false;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespaced = true;
    rest = rest.slice(2);
  }
  const resource = rest[0];
  if (!resource || resource.startsWith('{')) return undefined;
  const subresource = rest[2];
  return { group, resource, ...(subresource ? { subresource } : {}), namespaced };
}

/** Every request method of client-node's stable API classes, with the path and verb it maps to. */
async function clientMethods(): Promise<Map<string, ClientMethod[]>> {
  const require = createRequire(import.meta.url);
  const apisDir = join(dirname(require.resolve('@kubernetes/client-node')), 'gen', 'apis');
  const methods = new Map<string, ClientMethod[]>();
  for (const file of (await readdir(apisDir)).filter((f) => /^[A-Z][A-Za-z]*V\d+Api\.js$/.test(f))) {
    const api = file.replace(/\.js$/, '');
    const text = await readFile(join(apisDir, file), 'utf8');
    for (const m of text.matchAll(
      /async (\w+)\([^)]*\) \{\s*(?:var _a;\s*)?let _config[\s\S]*?const localVarPath = '([^']+)'[\s\S]*?HttpMethod\.(\w+)/g,
    )) {
      const [, name, path, http] = m as unknown as [string, string, string, string];
      const prefix = /^(deleteCollection|read|list|create|patch|replace|delete|connect)/.exec(name)?.[1];
      const parsed = parseApiPath(path);
      if (!prefix || !parsed) continue;
      const verb = prefix === 'connect' ? (http === 'GET' ? 'get' : 'create') : VERB_OF_PREFIX[prefix]!;
      // list…ForAllNamespaces reads every namespace: a cluster-wide permission.
      const namespaced = parsed.namespaced && !name.endsWith('ForAllNamespaces');
      methods.set(name, [...(methods.get(name) ?? []), { api, verb, ...parsed, namespaced }]);
    }
  }
  return methods;
}

/** ClusterClient's fields (src/kube/clusters.ts) → the API class behind them, to settle ambiguous names. */
const RECEIVER_API: Record<string, string> = {
  core: 'CoreV1Api',
  apps: 'AppsV1Api',
  coordination: 'CoordinationV1Api',
  authorization: 'AuthorizationV1Api',
};

interface FoundCall extends ApiCall {
  where: string;
  call: string;
}

/** Blanks comments (keeping line numbers) so prose mentioning an API path is not a call. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^(\s*)\/\/.*$/gm, (_all, indent: string) => indent);
}

function scanSource(source: string, file: string, methods: Map<string, ClientMethod[]>): FoundCall[] {
  const text = stripComments(source);
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const found: FoundCall[] = [];
  for (const m of text.matchAll(/\b((?:read|list|create|patch|replace|delete|deleteCollection|connect)[A-Z]\w*)\s*\(/g)) {
    const candidates = methods.get(m[1]!);
    if (!candidates) continue;
    const receiver = /(\w+)\s*\??\.\s*$/.exec(text.slice(Math.max(0, m.index - 80), m.index))?.[1];
    const pick =
      candidates.find((c) => receiver !== undefined && c.api === RECEIVER_API[receiver]) ??
      candidates.find((c) => c.api === 'CoreV1Api') ??
      candidates[0]!;
    const { api: _api, ...call } = pick;
    found.push({ ...call, where: `${file}:${lineOf(m.index)}`, call: `${m[1]}()` });
  }
  // Watch and informer paths: `/apis/apps/v1/namespaces/${ns}/deployments` → watch deployments.
  for (const m of text.matchAll(/[`'"](\/apis?\/[^`'"\s]+)[`'"]/g)) {
    const parsed = parseApiPath(m[1]!.replace(/\$\{[^}]*\}/g, '{x}'));
    if (!parsed) continue;
    found.push({ verb: 'watch', ...parsed, where: `${file}:${lineOf(m.index)}`, call: `watch ${m[1]}` });
  }
  return found;
}

function covers(p: RequiredPermission, c: ApiCall): boolean {
  return (
    p.verb === c.verb &&
    p.group === c.group &&
    p.resource === c.resource &&
    (p.subresource ?? '') === (c.subresource ?? '') &&
    (c.namespaced ? p.scope !== 'cluster' : p.scope === 'cluster')
  );
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.includes('.test.'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe('REQUIRED_PERMISSIONS covers what the code calls', () => {
  let methods: Map<string, ClientMethod[]>;
  beforeAll(async () => {
    methods = await clientMethods();
  });

  it('maps client-node methods and watch paths to RBAC verbs and resources', () => {
    const sample = [
      'await cluster.core.readNamespacedPodLog({ name, namespace });',
      'await cluster.apps.patchNamespacedDeploymentScale({ name, namespace, body });',
      'await cluster.coordination.replaceNamespacedLease({ name, namespace, body });',
      'await cluster.core\n  .listNamespacedEvent({ namespace });',
      'await cluster.core.patchNode({ name, body });',
      'await cluster.core.listPodForAllNamespaces({});',
      'await cluster.authorization.createSelfSubjectAccessReview({ body });',
      'cluster.watch.watch(`/api/v1/namespaces/${ns}/pods`, {}, onEvent, onDone);',
      '// cluster.core.listNamespacedSecret() in a comment is not a call',
      'const h = createHash("sha256"); readDeploymentIfExists(cluster, ns, name);',
    ].join('\n');
    const calls = scanSource(sample, 'sample.ts', methods).map(({ where: _w, call: _c, ...rest }) => rest);
    expect(calls).toEqual([
      { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespaced: true },
      { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale', namespaced: true },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespaced: true },
      { verb: 'list', group: '', resource: 'events', namespaced: true },
      { verb: 'patch', group: '', resource: 'nodes', namespaced: false },
      { verb: 'list', group: '', resource: 'pods', namespaced: false },
      { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespaced: false },
      { verb: 'watch', group: '', resource: 'pods', namespaced: true },
    ]);
  });

  it('lists every permission that src/ and commands/ use', async () => {
    const files = [...(await sourceFiles('src')), ...(await sourceFiles('commands'))];
    const calls: FoundCall[] = [];
    for (const file of files) calls.push(...scanSource(await readFile(join(ROOT, file), 'utf8'), file, methods));
    // The scan sees the calls we know exist (guards against a scanner that finds nothing).
    expect(calls.map((c) => c.call)).toEqual(expect.arrayContaining(['readNamespacedDeployment()', 'listNamespacedPod()']));

    const problems = calls
      .filter((c) => !REQUIRED_PERMISSIONS.some((p) => covers(p, c)))
      .map((c) => {
        const scope = c.namespaced ? (c.resource === 'leases' ? 'bot-namespace' : 'namespace') : 'cluster';
        const entry = `{ verb: '${c.verb}', group: '${c.group}', resource: '${c.resource}', ${c.subresource ? `subresource: '${c.subresource}', ` : ''}scope: '${scope}', why: '…' }`;
        const role =
          scope === 'cluster'
            ? 'deploy/kustomize/base/rbac-cluster.yaml'
            : scope === 'namespace'
              ? 'deploy/kustomize/base/managed-namespace/role.yaml'
              : 'deploy/kustomize/base/rbac-leader-election.yaml';
        return `${c.where} ${c.call} needs "${describePermission(c)}"${c.namespaced ? '' : ' cluster-wide'}: add\n    ${entry},\n  to REQUIRED_PERMISSIONS in src/kube/permissions.ts and grant it in ${role}`;
      });
    expect(problems, `code uses permissions the bot is not granted:\n${problems.join('\n')}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// `k8s-chatops check` against the Kubernetes API emulator.

describe('k8s-chatops check', () => {
  let kube: KubeEmulator;
  let dir: string;
  let configFile: string;
  beforeAll(async () => {
    kube = await startKubeEmulator({ nodes: 1, namespaces: ['beta', BOT_NAMESPACE] });
    dir = await mkdtemp(join(tmpdir(), 'chatops-check-'));
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['dev']);
    configFile = join(dir, 'chatops.yaml');
    await writeFile(
      configFile,
      stringify({
        clusters: { dev: { context: 'dev', kubeconfig } },
        environments: { beta: { cluster: 'dev', namespace: 'beta' } },
        channels: { C0OPS: { environments: ['beta'], commands: ['status', 'label'] } },
        alerts: [{ environments: ['beta'], channel: 'C0ONCALL' }],
      }),
    );
  });
  afterAll(async () => {
    await kube?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function check(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['check', '--config', configFile, '--bot-namespace', BOT_NAMESPACE, ...args], {
      // check also asks Redis (unreachable = not ready): the tests' Redis.
      env: { REDIS_URL: TEST_REDIS_URL },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    return { code, stdout, stderr };
  }

  it('passes and prints one row per permission when everything is allowed', async () => {
    kube.clearDenies();
    const { code, stdout } = await check();
    expect(code).toBe(0);
    expect(stdout).toContain('environment beta — cluster dev');
    expect(stdout).toContain('leader election (alerts) — cluster dev');
    expect(stdout).toMatch(/OK: the bot may do everything/);
    // Each permission appears once: namespaced + cluster-wide in the env report, leases in the leader report;
    // `debug`'s are not asked for, since no channel enables it.
    expect(stdout.split('\n').filter((l) => /^\s+ok\s/.test(l))).toHaveLength(
      REQUIRED_PERMISSIONS.filter((p) => p.optional !== 'debug' && p.optional !== 'run').length,
    );
    expect(stdout).not.toContain('debug: create');
  });

  it('fails with exit code 1 and names the missing permission', async () => {
    kube.clearDenies();
    kube.deny({ verb: 'patch', resource: 'deployments', subresource: 'scale', namespace: 'beta' });
    kube.deny({ verb: 'update', resource: 'leases', namespace: BOT_NAMESPACE });
    const { code, stdout } = await check();
    expect(code).toBe(1);
    expect(stdout).toMatch(/MISSING\s+patch\s+deployments\/scale\s+apps\s+ns beta\s+scale: set the replica count/);
    expect(stdout).toMatch(/MISSING\s+update\s+leases\s+coordination\.k8s\.io\s+ns k8s-chatops/);
    expect(stdout).toContain('NOT OK: 2 needed permission(s) missing');
    expect(stdout).toContain('  - patch deployments/scale (apps) in namespace beta');
    expect(stdout).toContain('  - update leases (coordination.k8s.io) in namespace k8s-chatops');
  });

  it('treats node patching as required because a channel enables `label`', async () => {
    kube.clearDenies();
    kube.deny({ verb: 'patch', resource: 'nodes' });
    const { code, stdout } = await check();
    expect(code).toBe(1);
    expect(stdout).toContain('  - patch nodes (core) cluster-wide');
  });

  it('reads the same Redis topology settings as the bot (Cluster, Sentinel), not only REDIS_URL', async () => {
    const port = await freePort();
    let stdout = '';
    const code = await runCli(['check', '--config', configFile, '--bot-namespace', BOT_NAMESPACE], {
      env: { REDIS_URL: TEST_REDIS_URL, REDIS_CLUSTER_NODES: `127.0.0.1:${port}` },
      stdout: (t) => (stdout += t),
      stderr: () => {},
    });
    expect(code).toBe(1);
    expect(stdout).toContain(`Redis at Cluster 127.0.0.1:${port} is unreachable`);
    let stderr = '';
    const bad = await runCli(['check', '--config', configFile], {
      env: { REDIS_SENTINELS: '127.0.0.1:26379' },
      stdout: () => {},
      stderr: (t) => (stderr += t),
    });
    expect(bad).toBe(2);
    expect(stderr).toContain('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS');
  });

  it('answers 2 with the file and the problem on a bad config', async () => {
    let stderr = '';
    const code = await runCli(['check', '--config', join(dir, 'missing.yaml')], {
      env: {},
      stdout: () => {},
      stderr: (t) => (stderr += t),
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`invalid configuration in ${join(dir, 'missing.yaml')}`);
    expect(stderr).toContain('file not found');
  });
});
