/**
 * What is wrong with a pod: the one classifier the rollout thread, `status`
 * and on-call alerts all use. Pure: reads only the pod object (as returned by
 * the API or slimmed by a watch cache), so every rule is tested without a cluster.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { timeMs } from './time.js';

export type PodProblemKind = 'CrashLoopBackOff' | 'OOMKilled' | 'ImagePullBackOff' | 'Unschedulable' | 'ContainerError';

/** One thing wrong with a pod, identified so that seeing it again is not a new occurrence. */
export interface PodProblem {
  kind: PodProblemKind;
  pod: string;
  container?: string;
  /**
   * Which occurrence this is, per pod × container × kind: the restart the
   * termination belongs to for OOMKilled and CrashLoopBackOff (a kill seen first
   * as the current state, then as lastState after the restart, is one
   * occurrence); 1 for the others, which last until they are resolved.
   */
  occurrence: number;
  /** When it happened (ms since the epoch): the termination, or since when the pod is unschedulable. NaN if unknown. */
  at: number;
  /** The kubelet's or scheduler's reason: OOMKilled, Error, ErrImagePull, ImagePullBackOff, Unschedulable… */
  reason?: string;
  exitCode?: number;
  /** The kubelet's or scheduler's message, verbatim. */
  message?: string;
  image?: string;
  restarts?: number;
}

const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull']);
const CONTAINER_ERROR_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/**
 * A container's problem, by what blocks it now: a waiting image pull or
 * container-creation error first, then an OOM kill (current or last state,
 * also when the kubelet is backing off after it), then a crash loop.
 */
function containerProblem(pod: string, s: V1ContainerStatus): PodProblem | undefined {
  const waiting = s.state?.waiting;
  const current = s.state?.terminated;
  const last = s.lastState?.terminated;
  const base = { pod, container: s.name, image: s.image, restarts: s.restartCount };
  const said = waiting?.message ? { message: waiting.message } : {};
  if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason))
    return { ...base, kind: 'ImagePullBackOff', occurrence: 1, at: NaN, reason: waiting.reason, ...said };
  if (waiting?.reason && CONTAINER_ERROR_REASONS.has(waiting.reason))
    return { ...base, kind: 'ContainerError', occurrence: 1, at: NaN, reason: waiting.reason, ...said };
  // A termination in the current state becomes restart N+1 once the kubelet restarts the container.
  const terminated = current ?? last;
  const occurrence = current ? s.restartCount + 1 : s.restartCount;
  if (terminated?.reason === 'OOMKilled')
    return {
      ...base,
      kind: 'OOMKilled',
      occurrence,
      at: timeMs(terminated.finishedAt),
      reason: 'OOMKilled',
      exitCode: terminated.exitCode,
    };
  if (waiting?.reason === 'CrashLoopBackOff') {
    return {
      ...base,
      kind: 'CrashLoopBackOff',
      occurrence: s.restartCount,
      at: timeMs(last?.finishedAt),
      reason: last?.reason ?? 'CrashLoopBackOff',
      ...(last ? { exitCode: last.exitCode } : {}),
      ...said,
    };
  }
  return undefined;
}

/** Everything wrong with the pod now: unschedulable first, then each container (init containers first). */
export function podProblems(pod: V1Pod): PodProblem[] {
  const name = pod.metadata?.name ?? '?';
  const problems: PodProblem[] = [];
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (!pod.spec?.nodeName && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    problems.push({
      kind: 'Unschedulable',
      pod: name,
      occurrence: 1,
      at: timeMs(scheduled.lastTransitionTime),
      reason: 'Unschedulable',
      ...(scheduled.message ? { message: scheduled.message } : {}),
    });
  }
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const p = containerProblem(name, s);
    if (p) problems.push(p);
  }
  return problems;
}

/** One line a human reads first. */
export function problemSummary(p: PodProblem): string {
  switch (p.kind) {
    case 'Unschedulable':
      return `pod ${p.pod} cannot be scheduled`;
    case 'ImagePullBackOff':
      return `${p.reason ?? p.kind}: cannot pull image ${p.image ?? '?'}`;
    case 'OOMKilled':
      return `container ${p.container ?? '?'} was OOMKilled (exit ${p.exitCode ?? '?'}), restarted ${p.restarts ?? 0} times`;
    case 'CrashLoopBackOff': {
      const exit =
        p.exitCode !== undefined
          ? ` — last exit code ${p.exitCode}${p.reason && p.reason !== 'CrashLoopBackOff' ? ` (${p.reason})` : ''}`
          : '';
      return `container ${p.container ?? '?'} is in CrashLoopBackOff${exit}, restarted ${p.restarts ?? 0} times`;
    }
    case 'ContainerError':
      return `${p.reason ?? 'Error'} in container ${p.container ?? '?'}`;
  }
}
