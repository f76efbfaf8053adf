/**
 * StatefulSet and DaemonSet revisions are ControllerRevisions: `revision` numbers
 * them, `data` is the strategic merge patch that restores a pod template
 * (`{spec: {template: {..., $patch: replace}}}`), and the pods carry the
 * `controller-revision-hash` label of the revision they run. `kubectl rollout undo`
 * applies a revision's `data`; a template rolled back to takes the next number.
 */
import {
  PatchStrategy,
  type V1ControllerRevision,
  type V1DaemonSet,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { ClusterClient } from '../clusters.js';
import { kubeCall } from '../errors.js';
import type { Revision as HistoryRevision } from '../revision.js';
import { listPodsBySelector } from '../pods.js';
import { planRollbackOf, sameTemplate, type Revision } from '../rollback.js';
import { describeWorkload, podSelector, type WorkloadHistory } from './types.js';

/** On a pod: the revision it runs (a StatefulSet writes the revision's name, a DaemonSet its hash). */
export const LABEL_POD_REVISION = 'controller-revision-hash';
/** On a ControllerRevision: the hash of its data. */
export const LABEL_REVISION_HASH = 'controller.kubernetes.io/hash';

type RevisionedWorkload = V1StatefulSet | V1DaemonSet;
type RevisionedKind = 'StatefulSet' | 'DaemonSet';

/** The ControllerRevisions the workload controls (its selector, then its uid as controller), as kubectl finds them. */
export async function listControllerRevisionsOf(
  cluster: ClusterClient,
  kind: RevisionedKind,
  obj: RevisionedWorkload,
): Promise<V1ControllerRevision[]> {
  const namespace = obj.metadata?.namespace ?? '';
  const uid = obj.metadata?.uid;
  const labelSelector = podSelector(obj);
  const list = await kubeCall(
    cluster.apps.listNamespacedControllerRevision({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    `the revisions (ControllerRevisions) of ${describeWorkload(kind, obj.metadata?.name ?? '?', namespace)}`,
  );
  return list.items.filter((r) => uid && r.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller === true));
}

/** The pod template a revision's `data` restores, as plain JSON without the `$patch` directive. */
export function revisionTemplate(rev: V1ControllerRevision): V1PodTemplateSpec {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _patch, ...template } = JSON.parse(JSON.stringify(data?.spec?.template ?? {})) as Record<string, unknown>;
  return template as V1PodTemplateSpec;
}

/** Revisions newest first, as the rollback logic reads them. */
export function controllerRevisions(revs: readonly V1ControllerRevision[]): Revision[] {
  return [...revs]
    .sort((a, b) => b.revision - a.revision)
    .map((rev) => {
      const template = revisionTemplate(rev);
      return {
        revision: rev.revision,
        object: rev.metadata?.name ?? '?',
        template,
        images: (template.spec?.containers ?? []).map((c) => c.image ?? '?'),
      };
    });
}

/** Whether a pod runs this revision: a StatefulSet labels it with the revision's name, a DaemonSet with its hash. */
function runs(pod: V1Pod, rev: V1ControllerRevision): boolean {
  const label = pod.metadata?.labels?.[LABEL_POD_REVISION];
  return label !== undefined && (label === rev.metadata?.name || label === rev.metadata?.labels?.[LABEL_REVISION_HASH]);
}

const ready = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/**
 * History rows: the current revision is the one whose template the workload
 * has now (else the newest); the pods columns count the pods running each.
 */
export function controllerRevisionHistory(
  obj: RevisionedWorkload,
  revs: readonly V1ControllerRevision[],
  pods: readonly V1Pod[],
): HistoryRevision[] {
  const sorted = [...revs].sort((a, b) => b.revision - a.revision);
  const rows = sorted.map((rev): HistoryRevision => {
    const template = revisionTemplate(rev);
    const mine = pods.filter((p) => runs(p, rev) && !p.metadata?.deletionTimestamp);
    const created = rev.metadata?.creationTimestamp;
    return {
      revision: rev.revision,
      object: rev.metadata?.name ?? '?',
      images: (template.spec?.containers ?? []).map((c) => c.image ?? '?'),
      ...(created ? { createdAt: new Date(created) } : {}),
      current: false,
      desired: mine.length,
      ready: mine.filter(ready).length,
      formerRevisions: [],
    };
  });
  const currentIndex = sorted.findIndex((rev) => sameTemplate(revisionTemplate(rev), obj.spec?.template));
  const current = rows[currentIndex] ?? rows[0];
  if (current) current.current = true;
  return rows;
}

/**
 * `kubectl rollout undo` for a StatefulSet or DaemonSet: the revision's `data`
 * as a strategic merge patch (it replaces the whole pod template), with our
 * annotations on the workload beside it.
 */
export function controllerRevisionPatch(to: Revision, annotations: Record<string, string>): object {
  return {
    ...(Object.keys(annotations).length ? { metadata: { annotations } } : {}),
    spec: { template: { ...to.template, $patch: 'replace' } },
  };
}

export async function controllerRevisionWorkloadHistory(
  cluster: ClusterClient,
  kind: RevisionedKind,
  obj: RevisionedWorkload,
): Promise<WorkloadHistory> {
  const namespace = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '?';
  const [revs, pods] = await Promise.all([
    listControllerRevisionsOf(cluster, kind, obj),
    listPodsBySelector(cluster, namespace, podSelector(obj), name),
  ]);
  const all = controllerRevisions(revs);
  return {
    stored: 'controller revision',
    revisions: controllerRevisionHistory(obj, revs, pods),
    plan: (toRevision) => planRollbackOf(describeWorkload(kind, name, namespace), all, obj.spec?.template, toRevision),
    rollbackPatch: (to, annotations) => ({ body: controllerRevisionPatch(to, annotations), strategy: PatchStrategy.StrategicMergePatch }),
  };
}
