/** `check` and start-up: the bot asks each cluster (SelfSubjectAccessReview) for every permission in REQUIRED_PERMISSIONS. */
import { readFileSync } from 'node:fs';
import type { V1SelfSubjectAccessReview } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { ClusterClient, Clusters } from './clusters.js';
import { clusterUnreachable } from './reachability.js';
import { REQUIRED_PERMISSIONS, commandEnabled, describePermission, rbacResource, type RequiredPermission } from './permissions.js';

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
