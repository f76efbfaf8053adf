/**
 * `kubectl rollout status` for StatefulSets and DaemonSets, as pure functions
 * with the same union result as the Deployment rule in ../rollout.ts.
 */
import type { V1DaemonSet, V1StatefulSet } from '@kubernetes/client-node';
import type { RolloutState } from '../rollout.js';

/** StatefulSet: RollingUpdate only; a partition ends the rollout at replicas − partition updated pods. */
export function statefulSetRolloutState(sts: V1StatefulSet): RolloutState {
  const name = sts.metadata?.name ?? 'statefulset';
  const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') {
    return {
      phase: 'done',
      message: `statefulset "${name}" uses the OnDelete update strategy: its pods change only when they are deleted`,
    };
  }
  const status = sts.status;
  if (!status || (sts.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { phase: 'waiting', message: 'waiting for the statefulset spec update to be observed' };
  }
  const desired = sts.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? ready;
  if (ready < desired) return { phase: 'progressing', message: `${ready} of ${desired} pods ready`, updated, available, desired };
  const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    const target = Math.max(0, desired - partition);
    if (updated < target)
      return {
        phase: 'progressing',
        message: `${updated} of ${target} pods updated (partition ${partition})`,
        updated,
        available,
        desired,
      };
    return {
      phase: 'done',
      message: `partitioned roll out complete: ${updated} new pods have been updated (partition ${partition} keeps ${Math.min(partition, desired)} on the old revision)`,
    };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      phase: 'progressing',
      message: `${updated} of ${desired} pods updated to revision ${status.updateRevision ?? '?'}`,
      updated,
      available,
      desired,
    };
  }
  return { phase: 'done', message: `${desired} pods at revision ${status.currentRevision ?? '?'}` };
}

/** DaemonSet: RollingUpdate only; done when every scheduled pod is updated and available. */
export function daemonSetRolloutState(ds: V1DaemonSet): RolloutState {
  const name = ds.metadata?.name ?? 'daemonset';
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') {
    return { phase: 'done', message: `daemonset "${name}" uses the OnDelete update strategy: its pods change only when they are deleted` };
  }
  const status = ds.status;
  if (!status || (ds.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { phase: 'waiting', message: 'waiting for the daemonset spec update to be observed' };
  }
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  if (updated < desired)
    return { phase: 'progressing', message: `${updated} of ${desired} updated pods scheduled`, updated, available, desired };
  if (available < desired)
    return { phase: 'progressing', message: `${available} of ${desired} updated pods available`, updated, available, desired };
  return { phase: 'done', message: `${desired} of ${desired} nodes run the updated pod` };
}
