/**
 * ControllerRevisions as the StatefulSet and DaemonSet controllers keep them: one per distinct pod template,
 * `data` = the strategic merge patch that restores it (what `kubectl rollout undo` applies), `revision` numbers
 * growing, a re-used template taking the next number, old ones truncated to revisionHistoryLimit.
 */
import { contentHash } from './hash.js';
import { controlled, controllerRef, sortedKeys } from './owners.js';
import { mustResource } from './resources.js';
import { stableStringify, type Store } from './store.js';

export const CONTROLLER_REVISION = mustResource('apps/v1', 'ControllerRevision');
export const HASH_LABEL = 'controller.kubernetes.io/hash';

/** The patch stored in `data` (controller's getPatch / kubectl's getStatefulSetPatch). */
export function revisionData(owner: any): any {
  const t = structuredClone(owner.spec?.template ?? {});
  // Go writes the template's zero creationTimestamp as null: kubectl compares these bytes to skip a no-op undo
  t.metadata = { creationTimestamp: null, ...(t.metadata ?? {}) };
  return sortedKeys({ spec: { template: { ...t, $patch: 'replace' } } });
}

/** The pod template a revision restores. */
export function revisionTemplate(rev: any): any {
  const { $patch: _p, ...t } = rev?.data?.spec?.template ?? {};
  return t;
}

function sameData(a: any, b: any): boolean {
  return stableStringify(a) === stableStringify(b);
}

export interface Revisions {
  /** all owned revisions, oldest first */
  all: any[];
  /** the revision of the current template */
  update: any;
  collisionCount: number;
}

/** Find or create the revision of the owner's current template (bumping a re-used one to the newest number). */
export function syncRevisions(store: Store, owner: any): Revisions {
  let all = controlled(store, CONTROLLER_REVISION, owner).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  const data = revisionData(owner);
  const max = all.reduce((n, r) => Math.max(n, r.revision ?? 0), 0);
  const matching = all.filter((r) => sameData(r.data, data));
  let update = matching[matching.length - 1];
  let collisionCount: number = owner.status?.collisionCount ?? 0;
  if (update && (update.revision ?? 0) < max) {
    update = store.update(CONTROLLER_REVISION, { ...update, metadata: { ...update.metadata }, revision: max + 1 });
  } else if (!update) {
    for (let attempt = 0; attempt < 10 && !update; attempt++) {
      const hash = contentHash(data, collisionCount);
      const name = `${owner.metadata.name}-${hash}`;
      const existing = store.get(CONTROLLER_REVISION, owner.metadata.namespace, name);
      if (existing) {
        collisionCount++;
        continue;
      }
      update = store.create(CONTROLLER_REVISION, {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name,
          namespace: owner.metadata.namespace,
          labels: { ...(owner.spec?.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
          ownerReferences: [controllerRef(owner)],
        },
        data,
        revision: max + 1,
      });
    }
  }
  all = controlled(store, CONTROLLER_REVISION, owner).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  return { all, update, collisionCount };
}

/** Delete the oldest revisions beyond revisionHistoryLimit that no live pod and no status field still uses. */
export function truncateHistory(store: Store, owner: any, revs: Revisions, live: Set<string>): void {
  const limit: number = owner.spec?.revisionHistoryLimit ?? 10;
  const idle = revs.all.filter((r) => r.metadata.name !== revs.update?.metadata.name && !live.has(r.metadata.name));
  for (let i = 0; i < idle.length - limit; i++) {
    try {
      store.delete(CONTROLLER_REVISION, idle[i].metadata.namespace, idle[i].metadata.name);
    } catch {
      // gone already
    }
  }
}
