/**
 * Rollout history of a Deployment — its ReplicaSets as revisions. Pure: the
 * caller reads the objects. Who made each revision, from our own audit
 * records, is src/audit/revisions.ts.
 */
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { ANNOTATION_CHANGE_CAUSE, ANNOTATION_DEPLOYED_BY, ANNOTATION_DEPLOYED_FROM, ANNOTATION_REQUEST_ID } from './render.js';

import { ANNOTATION_REVISION, ownedReplicaSets } from './replicasets.js';
import type { Attribution, Revision } from './revision.js';

export { ANNOTATION_REVISION, ownedReplicaSets };
/** Older revision numbers a ReplicaSet had before a rollback made it current again. */
export const ANNOTATION_REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';

export type { Attribution, Revision };

const time = (t: Date | string | undefined): Date | undefined => (t ? new Date(t) : undefined);

/** Newest revision first; the current one is the Deployment's revision annotation (else the newest). */
export function revisionsOf(deployment: V1Deployment, replicaSets: readonly V1ReplicaSet[]): Revision[] {
  const currentAnnotation = Number(deployment.metadata?.annotations?.[ANNOTATION_REVISION] ?? NaN);
  const revisions = ownedReplicaSets(deployment, replicaSets)
    .map((rs): Revision => {
      const annotations = rs.metadata?.annotations ?? {};
      const createdAt = time(rs.metadata?.creationTimestamp);
      const cause = annotations[ANNOTATION_CHANGE_CAUSE];
      return {
        revision: Number(annotations[ANNOTATION_REVISION] ?? 0) || 0,
        object: rs.metadata?.name ?? '?',
        images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?'),
        ...(createdAt ? { createdAt } : {}),
        current: false,
        desired: rs.spec?.replicas ?? 0,
        ready: rs.status?.readyReplicas ?? 0,
        ...(cause ? { changeCause: cause } : {}),
        formerRevisions: (annotations[ANNOTATION_REVISION_HISTORY] ?? '')
          .split(',')
          .map(Number)
          .filter((n) => Number.isInteger(n) && n > 0),
        ...(annotationAttribution(annotations) ?? {}),
      };
    })
    .sort((a, b) => b.revision - a.revision);
  const current = revisions.find((r) => r.revision === currentAnnotation) ?? revisions[0];
  if (current) current.current = true;
  return revisions;
}

function annotationAttribution(annotations: Record<string, string>): { by: Attribution } | undefined {
  const userName = annotations[ANNOTATION_DEPLOYED_BY];
  const channelId = annotations[ANNOTATION_DEPLOYED_FROM];
  if (!userName && !channelId) return undefined;
  const requestId = annotations[ANNOTATION_REQUEST_ID];
  return {
    by: {
      source: 'annotations',
      ...(userName ? { userName } : {}),
      ...(channelId ? { channelId } : {}),
      ...(requestId ? { ref: `cmd-${requestId}` } : {}),
    },
  };
}
