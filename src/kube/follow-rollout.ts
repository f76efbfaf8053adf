import type { V1Deployment } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { rolloutState, type RolloutState } from './rollout.js';
import { watchUntil } from './watch-until.js';
import { fromKubeError } from './errors.js';
import { unavailable } from '../errors/index.js';
import { watchRestartsTotal } from '../server/metrics.js';

export interface FollowRolloutOptions {
  cluster: ClusterClient;
  namespace: string;
  name: string;
  signal: AbortSignal;
  /** After this, give up even if the cluster has not declared the deadline exceeded. */
  timeoutMs: number;
  /** Called when the rollout state changes (not on every event). */
  onChange(state: RolloutState, deployment: V1Deployment): Promise<void>;
}

/** Follows a rollout with a watch on the single Deployment, like `kubectl rollout status`. */
export async function followRollout(opts: FollowRolloutOptions): Promise<RolloutState> {
  let last: RolloutState = { phase: 'waiting', message: 'waiting for the rollout to start' };
  let lastMessage = '';
  const result = await watchUntil<V1Deployment>({
    cluster: opts.cluster,
    path: `/apis/apps/v1/namespaces/${opts.namespace}/deployments`,
    name: opts.name,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    read: async () => {
      try {
        return await opts.cluster.apps.readNamespacedDeployment({ name: opts.name, namespace: opts.namespace });
      } catch (err) {
        throw fromKubeError(err, `deployment ${opts.name} in namespace ${opts.namespace}`);
      }
    },
    onObject: async (deployment) => {
      last = rolloutState(deployment);
      if (last.message !== lastMessage) {
        lastMessage = last.message;
        await opts.onChange(last, deployment);
      }
      return last.phase === 'done' || last.phase === 'failed';
    },
    onReconnect: () => watchRestartsTotal.inc({ resource: 'deployments' }),
  });
  if (result === 'timeout') return { phase: 'failed', message: `the rollout did not finish within ${Math.round(opts.timeoutMs / 1000)}s` };
  // Shutting down: a retryable error hands the job to another worker, which resumes the watch.
  if (result === 'aborted') throw unavailable('The worker is shutting down; another worker resumes following this rollout.');
  return last;
}
