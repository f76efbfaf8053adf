/** Where alerts go: from the alert rules, per cluster, the namespaces to watch and each kind's channels. */
import type { AlertKind, AlertRule, Config } from '../config/schema.js';

/** Where a finding of a kind goes in a namespace: one route per channel. */
export interface Route {
  channel: string;
  env: string;
  pendingForMs: number;
  /** Quiet time (no occurrence, every pod healthy) before an incident recovers. */
  recoverAfterMs: number;
  /** A new occurrence within this time after a recovery reopens the incident. */
  reopenWithinMs: number;
}

/** The namespaces of one cluster that rules cover, and where each kind is routed. */
export interface WatchTarget {
  namespace: string;
  routes: Map<AlertKind, Route[]>;
}

/** Per cluster name: the namespaces to watch and the routes, from the alert rules. */
export function watchTargets(config: Config, clusterOf: (env: string) => string): Map<string, WatchTarget[]> {
  const byCluster = new Map<string, Map<string, WatchTarget>>();
  config.alerts.forEach((rule: AlertRule) => {
    for (const env of rule.environments) {
      const namespace = config.environments[env]?.namespace;
      if (!namespace) continue;
      const cluster = clusterOf(env);
      const targets = byCluster.get(cluster) ?? new Map<string, WatchTarget>();
      byCluster.set(cluster, targets);
      const target: WatchTarget = targets.get(namespace) ?? { namespace, routes: new Map() };
      targets.set(namespace, target);
      for (const kind of rule.on) {
        const routes = target.routes.get(kind) ?? [];
        if (!routes.some((r) => r.channel === rule.channel))
          routes.push({
            channel: rule.channel,
            env,
            pendingForMs: rule.pendingFor,
            recoverAfterMs: rule.recoverAfter,
            reopenWithinMs: rule.reopenWithin,
          });
        target.routes.set(kind, routes);
      }
    }
  });
  return new Map([...byCluster].map(([cluster, targets]) => [cluster, [...targets.values()]]));
}
