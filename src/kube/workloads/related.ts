/**
 * What an app's workload is made of in the cluster: the workload, its revisions
 * (a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions)
 * and its pods — the objects `describe` and `events` read events about.
 */
import type { V1DaemonSet, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterClient } from '../clusters.js';
import { listReplicaSetsOf } from '../deployments.js';
import { listPodsBySelector } from '../pods.js';
import { listControllerRevisionsOf } from './controller-revisions.js';
import { podSelector, type AnyWorkload, type WorkloadKind } from './types.js';

export interface WorkloadObjects {
  pods: V1Pod[];
  /** Names of the workload, its revisions and its pods (events name the object they are about). */
  names: Set<string>;
}

export async function workloadObjects(cluster: ClusterClient, kind: WorkloadKind, live: AnyWorkload): Promise<WorkloadObjects> {
  const name = live.metadata?.name ?? '';
  const namespace = live.metadata?.namespace ?? '';
  const [pods, revisions] = await Promise.all([
    listPodsBySelector(cluster, namespace, podSelector(live), name),
    kind === 'Deployment'
      ? listReplicaSetsOf(cluster, live as V1Deployment)
      : listControllerRevisionsOf(cluster, kind, live as V1StatefulSet | V1DaemonSet),
  ]);
  const names = new Set([name, ...revisions.map((r) => r.metadata?.name ?? ''), ...pods.map((p) => p.metadata?.name ?? '')]);
  names.delete('');
  return { pods, names };
}
