import { readFileSync } from 'node:fs';
import type { V1SelfSubjectAccessReview } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { ClusterClient, Clusters } from './clusters.js';
import { clusterUnreachable } from './reachability.js';

/**
 * Where a permission applies:
 * - `namespace`: in every managed namespace (each environment's `namespace`);
 * - `cluster`: cluster-wide (a ClusterRole);
 * - `bot-namespace`: in the namespace the bot itself runs in.
 */
export type PermissionScope = 'namespace' | 'cluster' | 'bot-namespace';

export interface RequiredPermission {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  /** API group; '' is the core group. */
  group: string;
  /** Plural resource name, as in RBAC rules. */
  resource: string;
  subresource?: string;
  scope: PermissionScope;
  /** What needs it, for the `check` table and the docs. */
  why: string;
  /** Needed only when that command is enabled (a separate ClusterRole / Kustomize component). */
  optional?: 'label' | 'debug' | 'run';
}

const APPS = 'apps';
const CORE = '';

/**
 * Every Kubernetes permission the bot needs — the single source of truth.
 * deploy/kustomize (the Roles and ClusterRoles) must grant exactly these:
 * test/permissions.test.ts compares the rendered manifests with this list and
 * scans src/ and commands/ for client-node calls that this list does not cover.
 */
export const REQUIRED_PERMISSIONS: readonly RequiredPermission[] = [
  // Deployments: status, deploy (server-side apply creates or patches), restart, rollback, watched rollouts.
  { verb: 'get', group: APPS, resource: 'deployments', scope: 'namespace', why: 'status, deploy, rollback: read a Deployment' },
  { verb: 'list', group: APPS, resource: 'deployments', scope: 'namespace', why: 'status <env>: every Deployment in the environment' },
  { verb: 'watch', group: APPS, resource: 'deployments', scope: 'namespace', why: 'follow a rollout to the end (watch, not poll)' },
  { verb: 'patch', group: APPS, resource: 'deployments', scope: 'namespace', why: 'deploy (server-side apply), restart, rollback' },
  {
    verb: 'create',
    group: APPS,
    resource: 'deployments',
    scope: 'namespace',
    why: 'deploy of an app not yet in the namespace (apply creates it)',
  },
  {
    verb: 'delete',
    group: APPS,
    resource: 'deployments',
    scope: 'namespace',
    why: 'abort and promote: remove the canary (or old blue/green) Deployment the bot made',
  },
  { verb: 'get', group: APPS, resource: 'deployments', subresource: 'scale', scope: 'namespace', why: 'scale: read the replica count' },
  { verb: 'patch', group: APPS, resource: 'deployments', subresource: 'scale', scope: 'namespace', why: 'scale: set the replica count' },
  // StatefulSets and DaemonSets: rendered (apply) or adopted (set image), restarted, scaled, rolled back, watched.
  { verb: 'get', group: APPS, resource: 'statefulsets', scope: 'namespace', why: 'deploy, status, rollback: read a StatefulSet' },
  { verb: 'list', group: APPS, resource: 'statefulsets', scope: 'namespace', why: 'status <env>: every StatefulSet in the environment' },
  { verb: 'watch', group: APPS, resource: 'statefulsets', scope: 'namespace', why: 'follow a StatefulSet rollout (watch, not poll)' },
  { verb: 'patch', group: APPS, resource: 'statefulsets', scope: 'namespace', why: 'deploy (apply or set image), restart, rollback' },
  {
    verb: 'create',
    group: APPS,
    resource: 'statefulsets',
    scope: 'namespace',
    why: 'deploy of a StatefulSet app not yet in the namespace',
  },
  { verb: 'patch', group: APPS, resource: 'statefulsets', subresource: 'scale', scope: 'namespace', why: 'scale a StatefulSet' },
  { verb: 'get', group: APPS, resource: 'daemonsets', scope: 'namespace', why: 'deploy, status, rollback: read a DaemonSet' },
  { verb: 'list', group: APPS, resource: 'daemonsets', scope: 'namespace', why: 'status <env>: every DaemonSet in the environment' },
  { verb: 'watch', group: APPS, resource: 'daemonsets', scope: 'namespace', why: 'follow a DaemonSet rollout (watch, not poll)' },
  { verb: 'patch', group: APPS, resource: 'daemonsets', scope: 'namespace', why: 'deploy (apply or set image), restart, rollback' },
  { verb: 'create', group: APPS, resource: 'daemonsets', scope: 'namespace', why: 'deploy of a DaemonSet app not yet in the namespace' },
  {
    verb: 'list',
    group: APPS,
    resource: 'controllerrevisions',
    scope: 'namespace',
    why: 'rollback, history: the revisions of a StatefulSet or DaemonSet',
  },
  // Ingresses of rendered apps (`ingress:` in config).
  { verb: 'get', group: 'networking.k8s.io', resource: 'ingresses', scope: 'namespace', why: 'deploy: who owns an existing Ingress' },
  { verb: 'patch', group: 'networking.k8s.io', resource: 'ingresses', scope: 'namespace', why: "deploy: apply the app's Ingress" },
  { verb: 'create', group: 'networking.k8s.io', resource: 'ingresses', scope: 'namespace', why: 'deploy: apply creates the Ingress' },
  // ReplicaSets: revisions for rollback and history.
  { verb: 'get', group: APPS, resource: 'replicasets', scope: 'namespace', why: 'rollback: read a revision' },
  { verb: 'list', group: APPS, resource: 'replicasets', scope: 'namespace', why: 'rollback, history: the revisions of a Deployment' },
  { verb: 'watch', group: APPS, resource: 'replicasets', scope: 'namespace', why: 'rollout progress' },
  // Debug copies of pods: only with the debug-pods component (a write verb that makes pods).
  { verb: 'create', group: CORE, resource: 'pods', scope: 'namespace', why: 'debug: create a sleeping copy of a pod', optional: 'debug' },
  {
    verb: 'delete',
    group: CORE,
    resource: 'pods',
    scope: 'namespace',
    why: 'debug: delete a debug copy at its TTL or on request',
    optional: 'debug',
  },
  // Allow-listed tasks: only with the pod-exec component, off by default.
  {
    verb: 'create',
    group: CORE,
    resource: 'pods',
    subresource: 'exec',
    scope: 'namespace',
    why: 'run: start an allow-listed task in a pod',
    optional: 'run',
  },
  // Pods, logs and events: status, pods, logs, diagnosis and alerts.
  { verb: 'get', group: CORE, resource: 'pods', scope: 'namespace', why: 'status, logs: read a pod' },
  { verb: 'list', group: CORE, resource: 'pods', scope: 'namespace', why: 'status, pods, diagnosis, alerts' },
  { verb: 'watch', group: CORE, resource: 'pods', scope: 'namespace', why: 'alerts: OOMKilled, CrashLoopBackOff, Pending pods' },
  { verb: 'list', group: 'batch', resource: 'jobs', scope: 'namespace', why: 'alerts: the runs of a CronJob are one workload' },
  { verb: 'watch', group: 'batch', resource: 'jobs', scope: 'namespace', why: 'alerts: the CronJob owning each new Job' },
  {
    verb: 'get',
    group: CORE,
    resource: 'pods',
    subresource: 'log',
    scope: 'namespace',
    why: 'logs, and the last lines of a crashed container in alerts',
  },
  { verb: 'get', group: CORE, resource: 'events', scope: 'namespace', why: 'diagnosis: read an event' },
  { verb: 'list', group: CORE, resource: 'events', scope: 'namespace', why: "diagnosis: the scheduler's FailedScheduling message" },
  { verb: 'watch', group: CORE, resource: 'events', scope: 'namespace', why: 'alerts: FailedScheduling as it happens' },
  // The app's ConfigMap and Service, rendered by deploy and edited by config.
  { verb: 'get', group: CORE, resource: 'configmaps', scope: 'namespace', why: 'config get' },
  { verb: 'list', group: CORE, resource: 'configmaps', scope: 'namespace', why: "config: the app's ConfigMaps" },
  { verb: 'create', group: CORE, resource: 'configmaps', scope: 'namespace', why: "deploy: the app's ConfigMap (apply creates it)" },
  { verb: 'patch', group: CORE, resource: 'configmaps', scope: 'namespace', why: 'deploy, config set/unset' },
  { verb: 'get', group: CORE, resource: 'services', scope: 'namespace', why: "deploy: read the app's Service" },
  {
    verb: 'create',
    group: CORE,
    resource: 'services',
    scope: 'namespace',
    why: "deploy: the app's Service when it has a port (apply creates it)",
  },
  { verb: 'patch', group: CORE, resource: 'services', scope: 'namespace', why: "deploy: update the app's Service" },
  // Memory for the OOMKilled charts when no Prometheus is configured (metrics-server).
  {
    verb: 'list',
    group: 'metrics.k8s.io',
    resource: 'pods',
    scope: 'namespace',
    why: 'alerts: memory samples for the OOMKilled chart (metrics-server), when no Prometheus is configured',
  },
  // Cluster-wide.
  { verb: 'get', group: CORE, resource: 'nodes', scope: 'cluster', why: 'nodes, diagnosis: allocatable vs requests' },
  { verb: 'list', group: CORE, resource: 'nodes', scope: 'cluster', why: 'nodes, pods: which pods run where' },
  {
    verb: 'watch',
    group: CORE,
    resource: 'nodes',
    scope: 'cluster',
    why: 'alerts: node health (NodeNotReady, NodePressure) and node capacity for Pending pods',
  },
  {
    verb: 'list',
    group: CORE,
    resource: 'pods',
    scope: 'cluster',
    why: 'nodes, pods, alerts: requests of every pod on a node, in every namespace (as the scheduler counts them)',
  },
  { verb: 'patch', group: CORE, resource: 'nodes', scope: 'cluster', why: 'label: edit node labels', optional: 'label' },
  {
    verb: 'create',
    group: 'authorization.k8s.io',
    resource: 'selfsubjectaccessreviews',
    scope: 'cluster',
    why: '`k8s-chatops check` and the start-up permission check',
  },
  // The bot's own namespace.
  {
    verb: 'get',
    group: 'coordination.k8s.io',
    resource: 'leases',
    scope: 'bot-namespace',
    why: 'alerts: leader election (one watcher posts)',
  },
  {
    verb: 'create',
    group: 'coordination.k8s.io',
    resource: 'leases',
    scope: 'bot-namespace',
    why: 'alerts: leader election (first leader)',
  },
  {
    verb: 'update',
    group: 'coordination.k8s.io',
    resource: 'leases',
    scope: 'bot-namespace',
    why: 'alerts: leader election (renew, take over)',
  },
];

/** `resource` or `resource/subresource`, as RBAC rules spell it. */
export function rbacResource(p: Pick<RequiredPermission, 'resource' | 'subresource'>): string {
  return p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
}

/** Human form of a permission: `patch deployments/scale (apps)`. */
export function describePermission(p: { verb: string; group: string; resource: string; subresource?: string | undefined }): string {
  return `${p.verb} ${rbacResource(p)} (${p.group === '' ? 'core' : p.group})`;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The RBAC rules that grant exactly `permissions`, one rule per resource, verbs sorted. */
export function rbacRules(permissions: readonly RequiredPermission[]): PolicyRule[] {
  const byResource = new Map<string, PolicyRule>();
  for (const p of permissions) {
    const key = `${p.group}|${rbacResource(p)}`;
    const rule = byResource.get(key) ?? { apiGroups: [p.group], resources: [rbacResource(p)], verbs: [] };
    if (!rule.verbs.includes(p.verb)) rule.verbs.push(p.verb);
    byResource.set(key, rule);
  }
  return [...byResource.values()].map((r) => ({ ...r, verbs: r.verbs.sort() }));
}

/** How a command with optional permissions (`label`, `debug`) is enabled by the channel bindings. */
export function commandEnabled(config: Config, verb: NonNullable<RequiredPermission['optional']>): 'explicit' | 'wildcard' | 'no' {
  const bindings = Object.values(config.channels);
  if (bindings.some((b) => b.commands.includes(verb))) return 'explicit';
  if (bindings.some((b) => b.commands.includes('*'))) return 'wildcard';
  return 'no';
}

/** How the `label` command is enabled by the channel bindings. */
export function labelCommandEnabled(config: Config): 'explicit' | 'wildcard' | 'no' {
  return commandEnabled(config, 'label');
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The namespace the bot runs in: POD_NAMESPACE (set by the manifests through
 * the downward API), else the service account's namespace file in a pod.
 */
export function botNamespace(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface PermissionCheck {
  permission: RequiredPermission;
  /** Namespace checked; absent for cluster-scoped permissions. */
  namespace?: string;
  allowed: boolean;
  /** Does a denial fail the check? False for optional permissions whose command is not explicitly enabled. */
  required: boolean;
  /** The authorizer's reason, or why the question could not be asked. */
  reason?: string;
}

export interface PermissionReport {
  /** e.g. `environment beta` or `leader election`. */
  title: string;
  environment?: string;
  cluster: string;
  server: string;
  namespace?: string;
  checks: PermissionCheck[];
  /** Set when the cluster could not be reached: then nothing was asked (checks is empty). */
  unreachable?: string;
}

export interface CheckPermissionsOptions {
  /** The bot's own namespace, for the Lease permissions; default: `botNamespace()`. */
  botNamespace?: string;
}

async function ask(
  cluster: ClusterClient,
  p: RequiredPermission,
  namespace: string | undefined,
): Promise<{ allowed: boolean; reason?: string }> {
  const body: V1SelfSubjectAccessReview = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        verb: p.verb,
        group: p.group,
        resource: p.resource,
        ...(p.subresource ? { subresource: p.subresource } : {}),
        ...(namespace ? { namespace } : {}),
      },
    },
  };
  try {
    const review = await cluster.authorization.createSelfSubjectAccessReview({ body });
    const allowed = review.status?.allowed === true && review.status.denied !== true;
    const reason = review.status?.reason || review.status?.evaluationError;
    return reason ? { allowed, reason } : { allowed };
  } catch (err) {
    const code = (err as { code?: number }).code;
    const reason =
      code === 403
        ? 'cannot ask: the bot may not create selfsubjectaccessreviews (authorization.k8s.io)'
        : `cannot ask the API server: ${code ? `HTTP ${code}` : (err as Error).message}`;
    return { allowed: false, reason };
  }
}

/**
 * Asks each cluster, with SelfSubjectAccessReviews, whether the bot may do what
 * REQUIRED_PERMISSIONS lists: one report per environment (its namespace plus the
 * cluster-wide permissions of its cluster) and, when alerts are configured and
 * the bot's namespace is known, one report per cluster for the Lease.
 * Never throws for an unreachable cluster: the checks say why they failed.
 */
export async function checkPermissions(
  clusters: Clusters,
  config: Config,
  opts: CheckPermissionsOptions = {},
): Promise<PermissionReport[]> {
  const isRequired = (p: RequiredPermission) => !p.optional || commandEnabled(config, p.optional) === 'explicit';
  const wanted = (p: RequiredPermission) => !p.optional || commandEnabled(config, p.optional) !== 'no';
  // Cluster-wide answers are the same for every environment of a cluster: ask once.
  const clusterAnswers = new Map<string, Promise<{ allowed: boolean; reason?: string }>>();
  const askOnce = (cluster: ClusterClient, p: RequiredPermission, namespace: string | undefined) => {
    if (namespace !== undefined) return ask(cluster, p, namespace);
    const key = `${cluster.name}|${describePermission(p)}`;
    let answer = clusterAnswers.get(key);
    if (!answer) clusterAnswers.set(key, (answer = ask(cluster, p, undefined)));
    return answer;
  };
  const run = async (
    cluster: ClusterClient,
    permissions: RequiredPermission[],
    namespace: string | undefined,
  ): Promise<PermissionCheck[]> =>
    Promise.all(
      permissions.map(async (permission) => {
        const ns = permission.scope === 'cluster' ? undefined : namespace;
        const answer = await askOnce(cluster, permission, ns);
        return { permission, ...(ns ? { namespace: ns } : {}), required: isRequired(permission), ...answer };
      }),
    );

  // An unreachable cluster is one sentence, not a denial per permission.
  const reachability = new Map<string, Promise<string | undefined>>();
  const probe = (cluster: ClusterClient) => {
    let answer = reachability.get(cluster.name);
    if (!answer) reachability.set(cluster.name, (answer = clusterUnreachable(cluster)));
    return answer;
  };

  const reports: PermissionReport[] = [];
  for (const [envName, env] of Object.entries(config.environments)) {
    const cluster = clusters.forEnvironment(envName);
    const permissions = REQUIRED_PERMISSIONS.filter((p) => p.scope !== 'bot-namespace' && wanted(p));
    const unreachable = await probe(cluster);
    reports.push({
      title: `environment ${envName}`,
      environment: envName,
      cluster: cluster.name,
      server: cluster.server,
      namespace: env.namespace,
      checks: unreachable ? [] : await run(cluster, permissions, env.namespace),
      ...(unreachable ? { unreachable } : {}),
    });
  }
  const ownNamespace = opts.botNamespace ?? botNamespace();
  if (config.alerts.length > 0 && ownNamespace) {
    const permissions = REQUIRED_PERMISSIONS.filter((p) => p.scope === 'bot-namespace');
    for (const cluster of clusters.all()) {
      reports.push({
        title: 'leader election (alerts)',
        cluster: cluster.name,
        server: cluster.server,
        namespace: ownNamespace,
        ...(await probe(cluster).then((unreachable) =>
          unreachable ? { checks: [], unreachable } : run(cluster, permissions, ownNamespace).then((checks) => ({ checks })),
        )),
      });
    }
  }
  return reports;
}

/** One sentence per cluster that could not be reached (its permissions were not asked). */
export function unreachableClusters(reports: readonly PermissionReport[]): string[] {
  return [...new Set(reports.flatMap((r) => (r.unreachable ? [r.unreachable] : [])))];
}

/** Checks that are denied and needed: a non-empty result means the bot cannot work as configured. */
export function missingPermissions(reports: readonly PermissionReport[]): PermissionCheck[] {
  return reports.flatMap((r) => r.checks.filter((c) => !c.allowed && c.required));
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** A plain-text table per report: what the bot may and may not do, and why it needs each. */
export function formatPermissionReport(reports: readonly PermissionReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const where = report.namespace ? `namespace ${report.namespace}` : 'cluster-wide';
    lines.push(`${report.title} — cluster ${report.cluster} (${report.server}), ${where}`);
    if (report.unreachable) {
      lines.push('  => not checked: the cluster cannot be reached', '');
      continue;
    }
    const rows = report.checks.map((c) => {
      const status = c.allowed ? 'ok' : c.required ? 'MISSING' : 'missing (optional)';
      const scope = c.permission.scope === 'cluster' ? 'cluster' : `ns ${c.namespace ?? '?'}`;
      const note = [
        c.permission.why,
        c.permission.optional ? `only for \`${c.permission.optional}\`` : '',
        !c.allowed && c.reason ? `— ${c.reason}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      return [status, c.permission.verb, rbacResource(c.permission), c.permission.group === '' ? 'core' : c.permission.group, scope, note];
    });
    const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), 0));
    for (const row of rows) lines.push(`  ${row.map((cell, i) => (i < 5 ? pad(cell, widths[i]!) : cell)).join('  ')}`.trimEnd());
    const missing = report.checks.filter((c) => !c.allowed && c.required).length;
    lines.push(missing === 0 ? '  => everything needed is allowed' : `  => ${missing} needed permission(s) missing`);
    lines.push('');
  }
  const missing = missingPermissions(reports);
  const unreachable = unreachableClusters(reports);
  for (const sentence of unreachable) lines.push(`NOT OK: ${sentence}`);
  if (reports.length === 0) lines.push('nothing to check: no environments configured');
  else if (unreachable.length > 0 && missing.length === 0) lines.push('Permissions were checked only on the clusters that answered.');
  else if (missing.length === 0) lines.push('OK: the bot may do everything its configuration needs.');
  else {
    lines.push(
      `NOT OK: ${missing.length} needed permission(s) missing. Grant them with the Roles in deploy/kustomize (see deploy/README.md):`,
    );
    const seen = new Set<string>();
    for (const c of missing) {
      const line = `  - ${describePermission(c.permission)} ${c.namespace ? `in namespace ${c.namespace}` : 'cluster-wide'}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  return lines.join('\n');
}
