import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { podProblems, problemSummary, type PodProblem } from './pod-problems.js';
import { timeMsOr } from './time.js';

export type { PodProblemKind } from './pod-problems.js';

/** A pod problem as the rollout thread and `status` show it: the classifier's finding and a line to read first. */
export interface DescribedProblem extends PodProblem {
  summary: string;
}

/** The first thing wrong with this pod, if anything (see pod-problems.ts for the rules). Pure. */
export function diagnosePod(pod: V1Pod): DescribedProblem | undefined {
  const problem = podProblems(pod)[0];
  return problem ? { ...problem, summary: problemSummary(problem) } : undefined;
}

/** The latest FailedScheduling message for a pod: the scheduler's own explanation. */
export function latestSchedulingMessage(events: readonly CoreV1Event[], podName: string): string | undefined {
  const relevant = events
    .filter((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === podName)
    .sort((a, b) => eventTime(b) - eventTime(a));
  return relevant[0]?.message;
}

function eventTime(e: CoreV1Event): number {
  return timeMsOr(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp, 0);
}

/** What the rollout thread explains when a rollout fails: the first problem and its evidence. */
export interface AppDiagnosis {
  problem: DescribedProblem;
  logTail?: string[];
}

/**
 * Looks at the app's pods and explains the first problem: which pod, what
 * state, the scheduler's message or the last log lines of the crashed container.
 */
export async function diagnoseApp(
  cluster: ClusterClient,
  namespace: string,
  labelSelector: string,
  logLines = 10,
): Promise<AppDiagnosis | undefined> {
  const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector });
  const newestFirst = [...pods.items].sort(
    (a, b) => timeMsOr(b.metadata?.creationTimestamp, 0) - timeMsOr(a.metadata?.creationTimestamp, 0),
  );
  for (const pod of newestFirst) {
    const problem = diagnosePod(pod);
    if (!problem) continue;
    if (problem.kind === 'Unschedulable') {
      const events = await cluster.core
        .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${problem.pod}` })
        .catch(() => undefined);
      const fromEvent = events ? latestSchedulingMessage(events.items, problem.pod) : undefined;
      if (fromEvent) problem.message = fromEvent;
      return { problem };
    }
    if (problem.kind === 'CrashLoopBackOff' || problem.kind === 'OOMKilled') {
      const logTail = await readLogTail(cluster, namespace, problem.pod, problem.container, logLines, true);
      return logTail ? { problem, logTail } : { problem };
    }
    return { problem };
  }
  return undefined;
}

/**
 * The cluster's latest refusal to create a workload's pods (a FailedCreate Warning event on it: a StatefulSet or
 * DaemonSet, or a Deployment's ReplicaSet) since `sinceMs`, in its own words; undefined when there is none or events
 * cannot be read.
 */
export async function latestCreateRefusal(
  cluster: ClusterClient,
  namespace: string,
  kind: string,
  name: string,
  sinceMs: number,
): Promise<string | undefined> {
  const events = await cluster.core
    .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name},reason=FailedCreate` })
    .catch(() => undefined);
  const newest = [...(events?.items ?? [])]
    .filter((e) => e.type === 'Warning' && eventTime(e) >= sinceMs)
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
  return newest?.message;
}

/** Bytes read at most for a diagnosis' log tail: a few screens, however long the lines. */
export const LOG_TAIL_MAX_BYTES = 64 * 1024;
/** Characters kept of one log line in a diagnosis (a base64 dump or a JSON blob is cut). */
export const LOG_TAIL_MAX_LINE = 500;

/** `s` cut to `max` characters, saying so. */
export function capLine(s: string, max = LOG_TAIL_MAX_LINE): string {
  return s.length > max ? `${s.slice(0, max)}… [cut at ${max} characters]` : s;
}

/** The last `lines` lines of a container's log, bounded in bytes read and line length; undefined when it cannot be read. */
export async function readLogTail(
  cluster: ClusterClient,
  namespace: string,
  pod: string,
  container: string | undefined,
  lines: number,
  previous: boolean,
): Promise<string[] | undefined> {
  try {
    const text = await cluster.core.readNamespacedPodLog({
      name: pod,
      namespace,
      tailLines: lines,
      limitBytes: LOG_TAIL_MAX_BYTES,
      previous,
      ...(container ? { container } : {}),
    });
    return String(text)
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.length > 0)
      .slice(-lines)
      .map((l) => capLine(l));
  } catch {
    return undefined;
  }
}
