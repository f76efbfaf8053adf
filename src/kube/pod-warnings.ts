import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { diagnosePod, type DescribedProblem } from './diagnose.js';
import { timeMsOr } from './time.js';

/**
 * While a rollout runs, watches the app's pods and reports each new pod problem
 * once (ImagePullBackOff, CrashLoopBackOff, Unschedulable…), so the thread says
 * what is wrong within seconds instead of at the progress deadline. Best effort:
 * a lost watch only means fewer early warnings.
 */
export async function watchPodProblems(
  cluster: ClusterClient,
  namespace: string,
  labelSelector: string,
  onProblem: (problem: DescribedProblem) => void,
): Promise<{ stop(): void }> {
  const seen = new Set<string>();
  let controller: AbortController | undefined;
  let stopped = false;
  try {
    controller = await cluster.watch.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector },
      (phase, pod: V1Pod) => {
        if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
        const problem = diagnosePod(pod);
        if (!problem) return;
        const key = `${problem.pod}/${problem.kind}`;
        if (seen.has(key)) return;
        seen.add(key);
        onProblem(problem);
      },
      () => undefined,
    );
  } catch {
    // No early warnings then; the rollout's own outcome still reports the diagnosis.
  }
  if (stopped) controller?.abort();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

/**
 * While a StatefulSet or DaemonSet rolls out, watches for its controller's FailedCreate warnings (the apiserver
 * refuses its pods: a missing service account, a quota) at or after `sinceMs`, and reports the first one's message.
 * A Deployment needs none of this: its ReplicaFailure condition says the same on the object being followed.
 * Best effort, like the pod watch.
 */
export async function watchCreateRefusals(
  cluster: ClusterClient,
  namespace: string,
  workload: { kind: string; name: string },
  sinceMs: number,
  onRefusal: (message: string) => void,
): Promise<{ stop(): void }> {
  let controller: AbortController | undefined;
  let stopped = false;
  let reported = false;
  try {
    controller = await cluster.watch.watch(
      `/api/v1/namespaces/${namespace}/events`,
      { fieldSelector: `involvedObject.kind=${workload.kind},involvedObject.name=${workload.name},reason=FailedCreate` },
      (phase, event: CoreV1Event) => {
        if (reported || (phase !== 'ADDED' && phase !== 'MODIFIED') || event.type !== 'Warning') return;
        // an earlier rollout's refusal, not repeated since, says nothing about this one
        if (timeMsOr(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp, 0) < sinceMs) return;
        reported = true;
        onRefusal(event.message ?? event.reason ?? 'FailedCreate');
      },
      () => undefined,
    );
  } catch {
    // No early failure then: the rollout ends at its timeout and the diagnosis still reads the events.
  }
  if (stopped) controller?.abort();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
