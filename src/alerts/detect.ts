/**
 * Pods as on-call alerts see them: which problems alert (the classifier is
 * kube/pod-problems.ts, shared with the rollout thread), the workload an
 * incident groups by, health for recovery, and the slim copy the watch caches.
 */
import type { V1ContainerState, V1ContainerStatus, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { AlertKind } from '../config/schema.js';
import { podProblems, type PodProblem, type PodProblemKind } from '../kube/pod-problems.js';
import { evictedFinding } from './node-health.js';

/** The workload an incident is grouped by: the pod's owning controller, or the pod itself. */
export interface WorkloadRef {
  /** Deployment, StatefulSet, DaemonSet, Job, ReplicaSet (without a Deployment), other owners' kinds, or Pod. */
  kind: string;
  name: string;
}

/**
 * The owning workload, without API calls: a ReplicaSet named `<deployment>-<pod-template-hash>`
 * (as the Deployment controller names them) stands for its Deployment, a Job made by a CronJob
 * for its CronJob (`cronJobOf`, from the watched Jobs); a bare pod is its own workload.
 */
export function workloadOf(pod: V1Pod, cronJobOf?: CronJobOf): WorkloadRef {
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((r) => r.controller) ?? (owners.length === 1 ? owners[0] : undefined);
  if (!owner) return { kind: 'Pod', name: pod.metadata?.name ?? '?' };
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: owner.name.slice(0, -(hash.length + 1)) };
  }
  if (owner.kind === 'Job') {
    // Each run of a CronJob is a new Job: its pods group under the CronJob (the Job's owner reference).
    const known = cronJobOf?.(pod.metadata?.namespace ?? '', owner.name);
    if (typeof known === 'string') return { kind: 'CronJob', name: known };
    // A Job not (yet) seen: the CronJob controller names its Jobs `<cronjob>-<scheduled minute>`.
    const named = known === undefined ? CRONJOB_JOB_NAME.exec(owner.name) : null;
    if (named) return { kind: 'CronJob', name: named[1]! };
  }
  return { kind: owner.kind, name: owner.name };
}

/**
 * The CronJob that owns a Job (from the Job's owner references): its name, `null` for a
 * Job known to have none, undefined for a Job not known (then the name pattern decides).
 */
export type CronJobOf = (namespace: string, jobName: string) => string | null | undefined;

/** `<cronjob>-<minutes since the epoch>`, as the CronJob controller names the Jobs it creates. */
const CRONJOB_JOB_NAME = /^(.+)-(\d{8,10})$/;

/** Which pod problems are alert kinds (the rest, e.g. ContainerError, are shown by `status` only). */
const ALERTED: Readonly<Record<PodProblemKind, AlertKind | undefined>> = {
  OOMKilled: 'OOMKilled',
  CrashLoopBackOff: 'CrashLoopBackOff',
  ImagePullBackOff: 'ImagePullBackOff',
  Unschedulable: 'Unschedulable',
  ContainerError: undefined,
};

/** A pod problem that is an alert kind. */
export type Finding = Omit<PodProblem, 'kind'> & { kind: AlertKind };

/** Everything alert-worthy about the pod now (an eviction, or the shared classifier's problems of alert kinds). A pod going away reports nothing. */
export function detect(pod: V1Pod): Finding[] {
  if (pod.metadata?.deletionTimestamp) return [];
  const evicted = evictedFinding(pod);
  if (evicted) return [evicted];
  return podProblems(pod).flatMap((p) => {
    const kind = ALERTED[p.kind];
    return kind ? [{ ...p, kind }] : [];
  });
}

/**
 * Healthy, for recovery: running with every container ready, or finished
 * successfully. Pods being deleted do not count either way (callers skip them).
 */
export function podHealthy(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return true;
  if (phase !== 'Running') return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Does this pod count when judging whether its workload recovered? Pods being deleted and failed leftovers do not. */
export function countsForRecovery(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Failed';
}

/**
 * A copy of the pod with only what alerts read (identity, owner, node,
 * containers' resources and images, readiness and container states; the
 * scheduling constraints while it is unscheduled): watching tens of thousands
 * of pods keeps a small cache.
 */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const spec = pod.spec;
  const status = pod.status;
  const container = (c: NonNullable<V1Pod['spec']>['containers'][number]) => ({
    name: c.name,
    ...(c.image ? { image: c.image } : {}),
    ...(c.resources?.requests || c.resources?.limits
      ? {
          resources: {
            ...(c.resources.requests ? { requests: c.resources.requests } : {}),
            ...(c.resources.limits ? { limits: c.resources.limits } : {}),
          },
        }
      : {}),
    ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
  });
  const owner = m.ownerReferences?.find((r) => r.controller) ?? m.ownerReferences?.[0];
  const hash = m.labels?.['pod-template-hash'];
  const unscheduled = !spec?.nodeName;
  const conditions = status?.conditions
    ?.filter((c) => c.type === 'Ready' || (c.type === 'PodScheduled' && c.status === 'False'))
    .map((c) =>
      c.type === 'Ready'
        ? { type: c.type, status: c.status }
        : { type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime },
    );
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(hash ? { labels: { 'pod-template-hash': hash } } : {}),
      ...(owner
        ? { ownerReferences: [{ kind: owner.kind, name: owner.name, controller: owner.controller ?? false } as V1OwnerReference] }
        : {}),
    },
    ...(spec
      ? {
          spec: {
            containers: spec.containers.map(container),
            ...(spec.initContainers?.length ? { initContainers: spec.initContainers.map(container) } : {}),
            ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
            ...(spec.overhead ? { overhead: spec.overhead } : {}),
            ...(unscheduled && spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
            ...(unscheduled && spec.tolerations ? { tolerations: spec.tolerations } : {}),
            ...(unscheduled && spec.affinity?.nodeAffinity ? { affinity: { nodeAffinity: spec.affinity.nodeAffinity } } : {}),
          },
        }
      : {}),
    ...(status
      ? {
          status: {
            ...(status.phase ? { phase: status.phase } : {}),
            // An eviction says why in the pod's status.
            ...(status.phase === 'Failed' && status.reason ? { reason: status.reason } : {}),
            ...(status.phase === 'Failed' && status.message ? { message: status.message } : {}),
            ...(conditions?.length ? { conditions } : {}),
            ...(status.containerStatuses ? { containerStatuses: status.containerStatuses.map(slimStatus) } : {}),
            ...(status.initContainerStatuses ? { initContainerStatuses: status.initContainerStatuses.map(slimStatus) } : {}),
          },
        }
      : {}),
  };
}

function slimState(state: V1ContainerState | undefined): V1ContainerState | undefined {
  if (state?.terminated) {
    const t = state.terminated;
    return {
      terminated: {
        exitCode: t.exitCode,
        ...(t.reason ? { reason: t.reason } : {}),
        ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
      },
    };
  }
  if (state?.waiting)
    return {
      waiting: {
        ...(state.waiting.reason ? { reason: state.waiting.reason } : {}),
        ...(state.waiting.message ? { message: state.waiting.message } : {}),
      },
    };
  if (state?.running) return { running: {} };
  return undefined;
}

function slimStatus(s: V1ContainerStatus): V1ContainerStatus {
  const state = slimState(s.state);
  const lastState = slimState(s.lastState);
  return {
    name: s.name,
    image: s.image,
    imageID: '',
    ready: s.ready,
    restartCount: s.restartCount,
    ...(state ? { state } : {}),
    ...(lastState ? { lastState } : {}),
  };
}
