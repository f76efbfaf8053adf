/** Where alerts go: from the alert rules, per cluster, the namespaces to watch and each kind's channels. */
import { nodeAlertKinds, type AlertKind, type AlertRule, type Config } from '../config/schema.js';

type NodeKind = (typeof nodeAlertKinds)[number];

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
        if (isNodeKind(kind)) continue; // node kinds are routed per node (nodeRules)
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

export function isNodeKind(kind: AlertKind): kind is NodeKind {
  return (nodeAlertKinds as readonly AlertKind[]).includes(kind);
}

/** A rule that takes node alerts, as one cluster sees it. */
export interface NodeRule {
  channel: string;
  /** The rule's environments in this cluster, with their namespaces. */
  environments: ReadonlyArray<{ env: string; namespace: string }>;
  /** Every node of the cluster, not only those running pods of the environments. */
  allNodes: boolean;
  kinds: ReadonlySet<NodeKind>;
  /** How long a condition must last before its alert posts (the rule's `pendingFor`): a brief flap posts nothing. */
  pendingForMs: number;
  recoverAfterMs: number;
  reopenWithinMs: number;
}

/** Per cluster name: the rules that take NodeNotReady or NodePressure. */
export function nodeRules(config: Config, clusterOf: (env: string) => string): Map<string, NodeRule[]> {
  const byCluster = new Map<string, NodeRule[]>();
  for (const rule of config.alerts) {
    const kinds = new Set(rule.on.filter(isNodeKind));
    if (kinds.size === 0) continue;
    const perCluster = new Map<string, Array<{ env: string; namespace: string }>>();
    for (const env of rule.environments) {
      const namespace = config.environments[env]?.namespace;
      if (!namespace) continue;
      const cluster = clusterOf(env);
      perCluster.set(cluster, [...(perCluster.get(cluster) ?? []), { env, namespace }]);
    }
    for (const [cluster, environments] of perCluster) {
      const rules = byCluster.get(cluster) ?? [];
      rules.push({
        channel: rule.channel,
        environments,
        allNodes: rule.nodes,
        kinds,
        pendingForMs: rule.pendingFor,
        recoverAfterMs: rule.recoverAfter,
        reopenWithinMs: rule.reopenWithin,
      });
      byCluster.set(cluster, rules);
    }
  }
  return byCluster;
}

/** A node alert's destination: one per channel. */
export interface NodeRoute {
  channel: string;
  /** The environment the incident is filed under (policy of its buttons, `silence`): one with pods on the node, else the rule's first. */
  env: string;
  pendingForMs: number;
  recoverAfterMs: number;
  reopenWithinMs: number;
}

/**
 * Where a node finding goes: rules taking the kind whose environments have pods
 * on the node (namespaces given), or with `nodes: true`. One route per channel.
 */
export function routeNodeFinding(rules: readonly NodeRule[], kind: AlertKind, namespacesOnNode: ReadonlySet<string>): NodeRoute[] {
  const routes = new Map<string, NodeRoute>();
  for (const rule of rules) {
    if (!isNodeKind(kind) || !rule.kinds.has(kind) || routes.has(rule.channel)) continue;
    const affected = rule.environments.find((e) => namespacesOnNode.has(e.namespace));
    if (!affected && !rule.allNodes) continue;
    const env = (affected ?? rule.environments[0])?.env;
    if (!env) continue;
    routes.set(rule.channel, {
      channel: rule.channel,
      env,
      pendingForMs: rule.pendingForMs,
      recoverAfterMs: rule.recoverAfterMs,
      reopenWithinMs: rule.reopenWithinMs,
    });
  }
  return [...routes.values()];
}
