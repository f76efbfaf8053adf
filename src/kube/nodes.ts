/** Reads and writes of single nodes (listing them is cluster-capacity.ts). */
import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { fromKubeError, kubeStatusCode } from './errors.js';

/** The node, or undefined when this cluster has none by that name; any other failure is a readable error. */
export async function readNodeIfExists(cluster: ClusterClient, name: string): Promise<V1Node | undefined> {
  try {
    return await cluster.core.readNode({ name });
  } catch (err) {
    if (kubeStatusCode(err) === 404) return undefined;
    throw fromKubeError(err, `node ${name} in cluster ${cluster.name}`);
  }
}

/**
 * Sets (a value) or removes (null) labels of a node with a merge patch. With the
 * node's `resourceVersion` it fails (409) rather than act on labels changed
 * meanwhile. Failures are left as the API's own, so the caller can tell a
 * refusal (403) and a conflict (409) apart and retry the latter.
 */
export function patchNodeLabels(
  cluster: ClusterClient,
  name: string,
  labels: Record<string, string | null>,
  resourceVersion: string | undefined,
  fieldManager: string,
  dry: { dryRun?: 'All' } = {},
): Promise<V1Node> {
  return cluster.core.patchNode(
    { name, body: { metadata: { labels, resourceVersion } }, fieldManager, ...dry },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
