import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';

/** The revision number the Deployment controller writes on a Deployment and its ReplicaSets. */
export const ANNOTATION_REVISION = 'deployment.kubernetes.io/revision';

/** ReplicaSets the Deployment controls (ownerReferences by uid, as the controller decides). */
export function ownedReplicaSets(deployment: V1Deployment, replicaSets: readonly V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = deployment.metadata?.uid;
  if (!uid) return [];
  return replicaSets.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller === true));
}
