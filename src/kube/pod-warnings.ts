import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { diagnosePod, type DescribedProblem } from './diagnose.js';

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
