import type { PatchStrategy, V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { WorkloadKind } from '../../config/workload-schema.js';
import type { ClusterClient } from '../clusters.js';
import type { Revision as HistoryRevision } from '../revision.js';
import type { Revision as RollbackRevision, RollbackPlan } from '../rollback.js';
import type { RolloutState } from '../rollout.js';
import type { WriteOptions } from '../dry-run.js';

export type { WorkloadKind };
export type AnyWorkload = V1Deployment | V1StatefulSet | V1DaemonSet;

/**
 * What the verbs need of one kind of workload. One module per kind implements
 * it (deployment.ts, statefulset.ts, daemonset.ts); `workloadOps(kind)` picks one.
 */
export interface WorkloadOps {
  kind: WorkloadKind;
  /** The API resource, e.g. `deployments`. */
  plural: string;
  /** Reads it; a missing one is a not-found error naming it. */
  read(cluster: ClusterClient, namespace: string, name: string): Promise<AnyWorkload>;
  readIfExists(cluster: ClusterClient, namespace: string, name: string): Promise<AnyWorkload | undefined>;
  /** Every workload of this kind in the namespace. */
  list(cluster: ClusterClient, namespace: string): Promise<AnyWorkload[]>;
  /** Server-side apply under our field manager; `force` only ever on an object we own. `opts.dryRun`: a recorded dry run. */
  apply(cluster: ClusterClient, body: AnyWorkload, force: boolean, opts?: WriteOptions): Promise<AnyWorkload>;
  patch(
    cluster: ClusterClient,
    namespace: string,
    name: string,
    body: object,
    strategy: PatchStrategy,
    fieldManager: string,
    opts?: WriteOptions,
  ): Promise<AnyWorkload>;
  /** Sets replicas through the scale subresource; absent for kinds that have no replica count (DaemonSet). */
  scale?(cluster: ClusterClient, namespace: string, name: string, replicas: number, opts?: WriteOptions): Promise<number>;
  /** `kubectl rollout status`'s rule for this kind. Pure. */
  rolloutState(obj: AnyWorkload): RolloutState;
  /** Its revisions, as `kubectl rollout history` finds them (ReplicaSets or ControllerRevisions). */
  history(cluster: ClusterClient, live: AnyWorkload): Promise<WorkloadHistory>;
}

/** A workload's revisions, and `kubectl rollout undo` on them. */
export interface WorkloadHistory {
  /** What keeps one revision: `replica set` or `controller revision`. */
  stored: string;
  /** Newest first, for `history` (who made each is added from our audit records). */
  revisions: HistoryRevision[];
  /** kubectl's choice of the revision to go back to, or the refusal it would give. */
  plan(toRevision?: number): RollbackPlan;
  /** The patch that puts `to`'s pod template back and sets `annotations` on the workload, with its type. */
  rollbackPatch(to: RollbackRevision, annotations: Record<string, string>): { body: object; strategy: PatchStrategy };
}

/** `deployment legacy-web in namespace beta` */
export function describeWorkload(kind: WorkloadKind, name: string, namespace: string): string {
  return `${kind.toLowerCase()} ${name} in namespace ${namespace}`;
}

/** The label selector string of a workload's `spec.selector.matchLabels` (what its pods carry). */
export function podSelector(obj: AnyWorkload): string {
  return Object.entries(obj.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Desired pods: spec.replicas (default 1), or for a DaemonSet the nodes it should run on. */
export function desiredPods(obj: AnyWorkload): number {
  if (obj.kind === 'DaemonSet') return (obj as V1DaemonSet).status?.desiredNumberScheduled ?? 0;
  return (obj as V1Deployment).spec?.replicas ?? 1;
}
