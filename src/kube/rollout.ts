import type { V1Deployment } from '@kubernetes/client-node';

export type RolloutState =
  | { phase: 'waiting'; message: string }
  | { phase: 'progressing'; message: string; updated: number; available: number; desired: number }
  | { phase: 'done'; message: string }
  | {
      phase: 'failed';
      message: string;
      /** The cluster's refusal when the controller cannot create the pods at all (admission, quota): its own words. */
      podsRefused?: string;
    };

/** "1 replica", "2 replicas" (kubectl says "1 old replicas"; we don't). */
const replicasText = (n: number, adjective = '') => `${n} ${adjective}${n === 1 ? 'replica' : 'replicas'}`;

/**
 * The same completion rules as `kubectl rollout status`, plus one kubectl lacks: a ReplicaFailure condition (the
 * controller cannot create pods) fails at once, unless `ignoreReplicaFailure` (the follower found it is an old
 * ReplicaSet's, copied until that one is scaled down). Pure.
 */
export function rolloutState(deployment: V1Deployment, opts: { ignoreReplicaFailure?: boolean } = {}): RolloutState {
  const name = deployment.metadata?.name ?? 'deployment';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { phase: 'waiting', message: 'waiting for the deployment spec update to be observed' };
  }
  // The ReplicaSet controller cannot create pods (a missing service account, a quota): no progress will come of waiting.
  const refused = opts.ignoreReplicaFailure
    ? undefined
    : status.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (refused) return refusedPods(refused.message ?? refused.reason ?? 'no reason given');
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { phase: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { phase: 'progressing', message: `${updated} of ${replicasText(desired, 'new ')} updated`, updated, available, desired };
  }
  if (replicas > updated) {
    return {
      phase: 'progressing',
      message: `${replicasText(replicas - updated, 'old ')} pending termination`,
      updated,
      available,
      desired,
    };
  }
  if (available < updated) {
    return { phase: 'progressing', message: `${available} of ${replicasText(updated, 'updated ')} available`, updated, available, desired };
  }
  return { phase: 'done', message: `${updated} of ${replicasText(desired)} updated and available` };
}

/** The failed state of a rollout whose pods the cluster refuses to create, with its refusal. */
export function refusedPods(refusal: string): RolloutState {
  return { phase: 'failed', message: `the cluster refuses to create its pods: ${refusal}`, podsRefused: refusal };
}
