import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { badInput, notFound } from '../errors/index.js';
import { refusePaused } from './deployments.js';
import { ANNOTATION_REVISION } from './replicasets.js';

/**
 * `kubectl rollout undo`, as pure functions: choose the ReplicaSet to go back
 * to and build the JSON patch that puts its pod template into the Deployment.
 */

export { ANNOTATION_REVISION };
export const LABEL_POD_TEMPLATE_HASH = 'pod-template-hash';

export interface Revision {
  revision: number;
  /** The object that keeps it: a ReplicaSet (Deployment) or a ControllerRevision (StatefulSet, DaemonSet). */
  object: string;
  /** The ReplicaSet's pod template without its `pod-template-hash` label, as plain JSON. */
  template: V1PodTemplateSpec;
  images: string[];
}

export type RollbackPlan =
  /** Put `to`'s template into the Deployment. */
  | { kind: 'rollback'; from: Revision | undefined; to: Revision }
  /** The Deployment's template already equals `to`'s: kubectl skips the rollback. */
  | { kind: 'current'; to: Revision };

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

/** The revision a ReplicaSet stands for, from its `deployment.kubernetes.io/revision` annotation. */
export function revisionOf(rs: V1ReplicaSet): number | undefined {
  const raw = rs.metadata?.annotations?.[ANNOTATION_REVISION];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** A template as plain JSON (client-node objects hold Dates), without the `pod-template-hash` label. */
export function templateWithoutHash(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const plain = JSON.parse(JSON.stringify(template ?? {})) as V1PodTemplateSpec;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- one fixed, well-known label
  if (plain.metadata?.labels) delete plain.metadata.labels[LABEL_POD_TEMPLATE_HASH];
  return plain;
}

/** JSON with sorted keys where null and absent are the same, as the API server's Go structs see it. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined && record[k] !== null)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
}

/** Equal pod templates, ignoring `pod-template-hash` (kubectl's `equalIgnoreHash`). */
export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return canonical(templateWithoutHash(a)) === canonical(templateWithoutHash(b));
}

function toRevision(rs: V1ReplicaSet, revision: number): Revision {
  const template = templateWithoutHash(rs.spec?.template);
  return { revision, object: rs.metadata?.name ?? '?', template, images: (template.spec?.containers ?? []).map((c) => c.image ?? '?') };
}

/** The Deployment's revisions, newest first (ReplicaSets without a revision are skipped, as kubectl does). */
export function revisions(replicaSets: readonly V1ReplicaSet[]): Revision[] {
  return replicaSets
    .map((rs) => ({ rs, revision: revisionOf(rs) }))
    .filter((r): r is { rs: V1ReplicaSet; revision: number } => r.revision !== undefined)
    .sort((a, b) => b.revision - a.revision)
    .map(({ rs, revision }) => toRevision(rs, revision));
}

/** `3 (registry/app:1.4.2)` */
export function describeRevision(r: Revision): string {
  return `${r.revision} (${r.images.join(', ') || 'no containers'})`;
}

/** The revision `kubectl rollout undo` without `--to-revision` goes back to: the second highest. */
export function previousRevision(replicaSets: readonly V1ReplicaSet[]): Revision | undefined {
  return revisions(replicaSets)[1];
}

/**
 * What `kubectl rollout undo [--to-revision N]` would do with a Deployment, or
 * a user-facing error when it would refuse: a paused Deployment, no earlier
 * revision, or no revision N.
 */
export function planRollback(deployment: V1Deployment, replicaSets: readonly V1ReplicaSet[], toRevision?: number): RollbackPlan {
  const where = `deployment ${deployment.metadata?.name ?? '?'} in namespace ${deployment.metadata?.namespace ?? '?'}`;
  refusePaused(deployment, 'a rollback');
  return planRollbackOf(where, revisions(replicaSets), deployment.spec?.template, toRevision);
}

/**
 * kubectl's choice for any kind: `all` the revisions newest first, `template`
 * the workload's pod template now. Without `toRevision`, the second highest;
 * skipped when the workload already runs the target's template.
 */
export function planRollbackOf(
  where: string,
  all: readonly Revision[],
  template: V1PodTemplateSpec | undefined,
  toRevision?: number,
): RollbackPlan {
  const current = all.find((r) => sameTemplate(r.template, template));
  let target: Revision | undefined;
  if (toRevision === undefined) {
    target = all[1];
    if (!target) {
      throw badInput(
        all.length === 0
          ? `Nothing to roll back to: ${where} has no rollout history.`
          : `Nothing to roll back to: ${where} has only one revision, ${describeRevision(all[0]!)}.`,
      );
    }
  } else {
    target = all.find((r) => r.revision === toRevision);
    if (!target) {
      const known = all.map(describeRevision).join(', ');
      throw notFound(
        `${where} has no revision ${toRevision}${known ? `; its revisions are ${known}` : ''}. A rollback gives the revision it returns to the next number, so an earlier rollback may have renumbered it; \`/k8s history\` lists them.`,
      );
    }
  }
  if (sameTemplate(target.template, template)) return { kind: 'current', to: target };
  return { kind: 'rollback', from: current, to: target };
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON patch that performs the rollback: replace `/spec/template` with the
 * target's template (hash label removed) and set `annotations` on the
 * Deployment, keeping every other annotation it has (its revision included).
 */
export function rollbackPatch(deployment: V1Deployment, to: Revision, annotations: Record<string, string>): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [{ op: 'replace', path: '/spec/template', value: to.template }];
  if (!deployment.metadata?.annotations) {
    if (Object.keys(annotations).length > 0) ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
    return ops;
  }
  for (const [key, value] of Object.entries(annotations)) ops.push({ op: 'add', path: `/metadata/annotations/${pointer(key)}`, value });
  return ops;
}
