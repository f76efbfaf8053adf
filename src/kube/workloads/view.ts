import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { AnyWorkload, WorkloadKind } from './types.js';

/**
 * A StatefulSet or DaemonSet in the shape the status view reads (desired,
 * updated and available pods, revision), so one view shows every kind. Pure.
 */
export function asDeploymentView(obj: AnyWorkload): V1Deployment {
  if (obj.kind === 'StatefulSet') {
    const sts = obj as V1StatefulSet;
    const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition;
    return {
      metadata: {
        ...sts.metadata,
        annotations: {
          ...sts.metadata?.annotations,
          'deployment.kubernetes.io/revision': `${sts.status?.updateRevision ?? '?'}${partition ? ` (partition ${partition})` : ''}`,
        },
      },
      spec: { replicas: sts.spec?.replicas ?? 1, selector: sts.spec!.selector, template: sts.spec!.template },
      status: {
        updatedReplicas: sts.status?.updatedReplicas ?? 0,
        readyReplicas: sts.status?.readyReplicas ?? 0,
        availableReplicas: sts.status?.availableReplicas ?? sts.status?.readyReplicas ?? 0,
        replicas: sts.status?.replicas ?? 0,
        conditions: [],
      },
    };
  }
  if (obj.kind === 'DaemonSet') {
    const ds = obj as V1DaemonSet;
    return {
      metadata: ds.metadata ?? {},
      spec: { replicas: ds.status?.desiredNumberScheduled ?? 0, selector: ds.spec!.selector, template: ds.spec!.template },
      status: {
        updatedReplicas: ds.status?.updatedNumberScheduled ?? 0,
        readyReplicas: ds.status?.numberReady ?? 0,
        availableReplicas: ds.status?.numberAvailable ?? 0,
        replicas: ds.status?.currentNumberScheduled ?? 0,
        conditions: [],
      },
    };
  }
  return obj as V1Deployment;
}

/** How a StatefulSet or DaemonSet rolls (what `describe` says of a Deployment's strategy). Pure. */
export function updateStrategyLine(kind: WorkloadKind, obj: AnyWorkload): string | undefined {
  if (kind === 'StatefulSet') {
    const u = (obj as V1StatefulSet).spec?.updateStrategy;
    const partition = u?.rollingUpdate?.partition;
    return `updateStrategy ${u?.type ?? 'RollingUpdate'}${partition ? ` (partition ${partition})` : ''}`;
  }
  if (kind === 'DaemonSet') {
    const u = (obj as V1DaemonSet).spec?.updateStrategy;
    const r = u?.rollingUpdate;
    return `updateStrategy ${u?.type ?? 'RollingUpdate'}${r ? ` (maxSurge ${String(r.maxSurge ?? 0)}, maxUnavailable ${String(r.maxUnavailable ?? 1)})` : ''}`;
  }
  return undefined;
}
