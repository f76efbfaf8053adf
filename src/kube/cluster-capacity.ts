/**
 * Reads what `capacity.ts` computes on: nodes, and the pods that hold resources
 * on them in every namespace (the scheduler counts them all).
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { clusterCapacity, type NodeCapacity } from './capacity.js';
import type { ClusterClient } from './clusters.js';
import { fromKubeError } from './errors.js';

/** Pods that still hold resources: what the scheduler subtracts from allocatable. */
const HOLDING_RESOURCES = 'status.phase!=Succeeded,status.phase!=Failed';
const PAGE = 500;
/** Up to this many nodes, their pods are read node by node (spec.nodeName) instead of every pod of the cluster. */
const PER_NODE_UP_TO = 5;

async function listAllPods(cluster: ClusterClient, fieldSelector: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  let token: string | undefined;
  do {
    const page = await cluster.core.listPodForAllNamespaces({ fieldSelector, limit: PAGE, ...(token ? { _continue: token } : {}) });
    pods.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token);
  return pods;
}

/** Pods holding resources on these nodes, in every namespace. */
export async function podsOnNodes(cluster: ClusterClient, nodeNames: readonly string[]): Promise<V1Pod[]> {
  try {
    if (nodeNames.length <= PER_NODE_UP_TO) {
      const perNode = await Promise.all(nodeNames.map((name) => listAllPods(cluster, `spec.nodeName=${name},${HOLDING_RESOURCES}`)));
      return perNode.flat();
    }
    const wanted = new Set(nodeNames);
    return (await listAllPods(cluster, HOLDING_RESOURCES)).filter((p) => wanted.has(p.spec?.nodeName ?? ''));
  } catch (err) {
    throw fromKubeError(err, `pods of every namespace on cluster ${cluster.name}`);
  }
}

export async function listNodes(cluster: ClusterClient, labelSelector?: string): Promise<V1Node[]> {
  try {
    const nodes: V1Node[] = [];
    let token: string | undefined;
    do {
      const page = await cluster.core.listNode({
        limit: PAGE,
        ...(labelSelector ? { labelSelector } : {}),
        ...(token ? { _continue: token } : {}),
      });
      nodes.push(...page.items);
      token = page.metadata?._continue || undefined;
    } while (token);
    return nodes;
  } catch (err) {
    throw fromKubeError(err, `nodes of cluster ${cluster.name}${labelSelector ? ` matching \`${labelSelector}\`` : ''}`);
  }
}

/** Requested vs allocatable for the cluster's nodes (those matching `labelSelector`, if given), sorted by name. */
export async function readClusterCapacity(
  cluster: ClusterClient,
  opts: { labelSelector?: string; nodeNames?: readonly string[] } = {},
): Promise<NodeCapacity[]> {
  let nodes = await listNodes(cluster, opts.labelSelector);
  if (opts.nodeNames) {
    const wanted = new Set(opts.nodeNames);
    nodes = nodes.filter((n) => wanted.has(n.metadata?.name ?? ''));
  }
  const pods = await podsOnNodes(cluster, nodes.map((n) => n.metadata?.name ?? '').filter(Boolean));
  return clusterCapacity(nodes, pods);
}
