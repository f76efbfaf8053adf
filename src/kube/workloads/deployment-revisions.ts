/**
 * A Deployment's revisions are its ReplicaSets (the `deployment.kubernetes.io/revision`
 * annotation numbers them); `kubectl rollout undo` copies one's pod template back.
 */
import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from '../clusters.js';
import { listReplicaSetsOf } from '../deployments.js';
import { revisionsOf } from '../history.js';
import { planRollback, rollbackPatch } from '../rollback.js';
import type { WorkloadHistory } from './types.js';

export async function deploymentHistory(cluster: ClusterClient, deployment: V1Deployment): Promise<WorkloadHistory> {
  const replicaSets = await listReplicaSetsOf(cluster, deployment);
  return {
    stored: 'replica set',
    revisions: revisionsOf(deployment, replicaSets),
    plan: (toRevision) => planRollback(deployment, replicaSets, toRevision),
    rollbackPatch: (to, annotations) => ({ body: rollbackPatch(deployment, to, annotations), strategy: PatchStrategy.JsonPatch }),
  };
}
