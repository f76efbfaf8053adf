/** REQUIRED_PERMISSIONS covers every client-node call and watch path in src/ and commands/, found by scanning the code. */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS, describePermission, type RequiredPermission } from '../src/kube/permissions.js';
import { ROOT } from './support/kustomize.js';

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
