import type { ClusterClient } from './clusters.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { newReplicaSetRefusal } from './deployments.js';
import { refusedPods, rolloutState, type RolloutState } from './rollout.js';
import { watchUntil } from './watch-until.js';
import { workloadOps } from './workloads/kinds.js';
import type { AnyWorkload, WorkloadKind } from './workloads/types.js';
import { unavailable } from '../errors/index.js';
import { watchRestartsTotal } from '../server/metrics.js';

export interface FollowRolloutOptions {
  cluster: ClusterClient;
  namespace: string;
  name: string;
  /** Default Deployment. */
  kind?: WorkloadKind;
  signal: AbortSignal;
  /** Ends the follow early with the RolloutState given as its abort reason (e.g. the cluster refuses the pods). */
  stopWith?: AbortSignal;
  /** After this, give up even if the cluster has not declared the deadline exceeded. */
  timeoutMs: number;
  /** Called when the rollout state changes (not on every event). */
  onChange(state: RolloutState, workload: AnyWorkload): Promise<void>;
}

/** Follows a rollout with a watch on the single workload, like `kubectl rollout status`. */
export async function followRollout(opts: FollowRolloutOptions): Promise<RolloutState> {
  const ops = workloadOps(opts.kind ?? 'Deployment');
  let last: RolloutState = { phase: 'waiting', message: 'waiting for the rollout to start' };
  let lastMessage = '';
  // Either signal ends the watch.
  const ended = new AbortController();
  const end = () => ended.abort();
  for (const s of [opts.signal, opts.stopWith]) {
    if (s?.aborted) ended.abort();
    else s?.addEventListener('abort', end, { once: true });
  }
  const result = await watchUntil<AnyWorkload>({
    cluster: opts.cluster,
    path: `/apis/apps/v1/namespaces/${opts.namespace}/${ops.plural}`,
    name: opts.name,
    signal: ended.signal,
    timeoutMs: opts.timeoutMs,
    read: () => ops.read(opts.cluster, opts.namespace, opts.name),
    onObject: async (workload) => {
      last = ops.rolloutState(workload);
      // A Deployment copies an old ReplicaSet's ReplicaFailure until that one is scaled down: only the new one's fails it.
      if (last.phase === 'failed' && last.podsRefused && ops.kind === 'Deployment') {
        const deployment = workload as V1Deployment;
        const own = await newReplicaSetRefusal(opts.cluster, deployment);
        if (!own.refuses) last = rolloutState(deployment, { ignoreReplicaFailure: true });
        else if (own.message) last = refusedPods(own.message);
      }
      if (last.message !== lastMessage) {
        lastMessage = last.message;
        await opts.onChange(last, workload);
      }
      return last.phase === 'done' || last.phase === 'failed';
    },
    onReconnect: () => watchRestartsTotal.inc({ resource: ops.plural }),
  }).finally(() => {
    opts.signal.removeEventListener('abort', end);
    opts.stopWith?.removeEventListener('abort', end);
  });
  if (result === 'timeout') return { phase: 'failed', message: `the rollout did not finish within ${Math.round(opts.timeoutMs / 1000)}s` };
  if (result === 'aborted' && !opts.signal.aborted && opts.stopWith?.aborted) return opts.stopWith.reason as RolloutState;
  // Shutting down: a retryable error hands the job to another worker, which resumes the watch.
  if (result === 'aborted') throw unavailable('The worker is shutting down; another worker resumes following this rollout.');
  return last;
}
