import type { Config } from '../config/schema.js';

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
 * test/permissions-rbac.test.ts compares the rendered manifests with this list, and
 * test/permissions-code.test.ts scans src/ and commands/ for client-node calls that
 * this list does not cover.
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
