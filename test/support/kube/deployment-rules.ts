/** The Deployment controller's pure rules: pod-template hash, revision annotations, surge and unavailability. */
import { fnv32a, safeEncode } from './hash.js';
import { resolveIntOrPercent } from './owners.js';
import { stableStringify } from './store.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const HASH_LABEL = 'pod-template-hash';
/** The controller's maxRevHistoryLengthInChars: the oldest numbers are dropped to stay within it. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations the controller does not copy onto its ReplicaSets (annotationsToSkip). */
const ANNOTATIONS_NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** copyDeploymentAnnotationsToReplicaSet: the Deployment's own annotations (change-cause and the like) on its new ReplicaSet. */
export function copiedAnnotations(d: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries((d.metadata?.annotations ?? {}) as Record<string, string>).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
  );
}

/** SetNewReplicaSetAnnotations: a re-used ReplicaSet appends its former revision to its revision history. */
export function revisionHistory(history: string | undefined, former: string | undefined): string | undefined {
  if (!former) return history;
  const old = history ? history.split(',') : [];
  let total = (history?.length ?? 0) + former.length + 1;
  let start = 0;
  while (old.length && total > MAX_REVISION_HISTORY_CHARS && start < old.length) total -= old[start++]!.length + 1;
  return total <= MAX_REVISION_HISTORY_CHARS ? [...old.slice(start), former].join(',') : history;
}

export function templateWithoutHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
  }
  return t;
}

export function podTemplateHash(template: any, collisionCount = 0): string {
  const text = stableStringify(templateWithoutHash(template)) + (collisionCount ? String(collisionCount) : '');
  return safeEncode(String(fnv32a(text)));
}

export function revisionOf(rs: any): number {
  const n = Number(rs.metadata?.annotations?.[REVISION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function maxSurge(d: any): number {
  if (d.spec?.strategy?.type === 'Recreate') return 0;
  const desired: number = d.spec?.replicas ?? 1;
  const surge = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
  const unavail = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
  return surge === 0 && unavail === 0 ? 1 : surge;
}

export function maxUnavailable(d: any): number {
  if (d.spec?.strategy?.type === 'Recreate') return 0;
  const desired: number = d.spec?.replicas ?? 1;
  const surge = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
  const unavail = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavail === 0) return 1;
  return Math.min(unavail, desired);
}
