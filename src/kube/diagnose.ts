import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';

export type PodProblemKind = 'CrashLoopBackOff' | 'OOMKilled' | 'ImagePullBackOff' | 'Unschedulable' | 'ContainerError';

export interface PodProblem {
  kind: PodProblemKind;
  pod: string;
  container?: string;
  /** One line a human reads first. */
  summary: string;
  image?: string;
  exitCode?: number;
  restarts?: number;
  /** Scheduler or kubelet message, verbatim. */
  message?: string;
}

const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
const CONTAINER_ERROR_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** What is wrong with this pod, if anything. Pure: reads only the pod object. */
export function diagnosePod(pod: V1Pod): PodProblem | undefined {
  const name = pod.metadata?.name ?? '?';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (pod.status?.phase === 'Pending' && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { kind: 'Unschedulable', pod: name, summary: `pod ${name} cannot be scheduled`, ...(scheduled.message ? { message: scheduled.message } : {}) };
  }
  for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = status.state?.waiting;
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    const base = { pod: name, container: status.name, image: status.image, restarts: status.restartCount };
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return { ...base, kind: 'ImagePullBackOff', summary: `${waiting.reason}: cannot pull image ${status.image}`, ...(waiting.message ? { message: waiting.message } : {}) };
    }
    if (terminated?.reason === 'OOMKilled') {
      return { ...base, kind: 'OOMKilled', exitCode: terminated.exitCode, summary: `container ${status.name} was OOMKilled (exit ${terminated.exitCode}), restarted ${status.restartCount} times` };
    }
    if (waiting?.reason === 'CrashLoopBackOff') {
      const exit = terminated ? ` — last exit code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}` : '';
      return { ...base, kind: 'CrashLoopBackOff', ...(terminated ? { exitCode: terminated.exitCode } : {}), summary: `container ${status.name} is in CrashLoopBackOff${exit}, restarted ${status.restartCount} times`, ...(waiting.message ? { message: waiting.message } : {}) };
    }
    if (waiting?.reason && CONTAINER_ERROR_REASONS.has(waiting.reason)) {
      return { ...base, kind: 'ContainerError', summary: `${waiting.reason} in container ${status.name}`, ...(waiting.message ? { message: waiting.message } : {}) };
    }
  }
  return undefined;
}

/** The latest FailedScheduling message for a pod: the scheduler's own explanation. */
export function latestSchedulingMessage(events: readonly CoreV1Event[], podName: string): string | undefined {
  const relevant = events
    .filter((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === podName)
    .sort((a, b) => eventTime(b) - eventTime(a));
  return relevant[0]?.message;
}

function eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}

export interface Diagnosis {
  problem: PodProblem;
  logTail?: string[];
}

/**
 * Looks at the app's pods and explains the first problem: which pod, what
 * state, the scheduler's message or the last log lines of the crashed container.
 */
export async function diagnoseApp(cluster: ClusterClient, namespace: string, labelSelector: string, logLines = 10): Promise<Diagnosis | undefined> {
  const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector });
  const newestFirst = [...pods.items].sort(
    (a, b) => new Date(String(b.metadata?.creationTimestamp ?? 0)).getTime() - new Date(String(a.metadata?.creationTimestamp ?? 0)).getTime(),
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

export async function readLogTail(
  cluster: ClusterClient,
  namespace: string,
  pod: string,
  container: string | undefined,
  lines: number,
  previous: boolean,
): Promise<string[] | undefined> {
  try {
    const text = await cluster.core.readNamespacedPodLog({ name: pod, namespace, tailLines: lines, previous, ...(container ? { container } : {}) });
    return String(text).split('\n').filter((l) => l.length > 0).slice(-lines);
  } catch {
    return undefined;
  }
}
