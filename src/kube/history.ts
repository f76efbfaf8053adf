/**
 * Rollout history of a Deployment — its ReplicaSets as revisions — and who made
 * each revision, from our own audit records. Pure: the caller reads the objects.
 */
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { StoredAuditEntry } from '../audit/index.js';
import { ANNOTATION_CHANGE_CAUSE, ANNOTATION_DEPLOYED_BY, ANNOTATION_DEPLOYED_FROM, ANNOTATION_REQUEST_ID } from './render.js';

import { ANNOTATION_REVISION, ownedReplicaSets } from './replicasets.js';

export { ANNOTATION_REVISION, ownedReplicaSets };
/** Older revision numbers a ReplicaSet had before a rollback made it current again. */
export const ANNOTATION_REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';

/** Who made a revision, and how we know. */
export interface Attribution {
  /** `audit`: a job of ours ran when the ReplicaSet was created; `annotations`: copied from the Deployment by the controller. */
  source: 'audit' | 'annotations';
  userId?: string;
  /** A user name, when only the annotation's text is known. */
  userName?: string;
  channelId?: string;
  /** The verb of the job (deploy, restart, config, rollback…). */
  verb?: string;
  /** The job's id. */
  ref?: string;
}

export interface Revision {
  revision: number;
  replicaSet: string;
  images: string[];
  createdAt?: Date;
  current: boolean;
  desired: number;
  ready: number;
  changeCause?: string;
  /** Revision numbers this ReplicaSet had before (it was rolled back to). */
  formerRevisions: number[];
  by?: Attribution;
}

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
        replicaSet: rs.metadata?.name ?? '?',
        images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?'),
        ...(createdAt ? { createdAt } : {}),
        current: false,
        desired: rs.spec?.replicas ?? 0,
        ready: rs.status?.readyReplicas ?? 0,
        ...(cause ? { changeCause: cause } : {}),
        formerRevisions: (annotations[ANNOTATION_REVISION_HISTORY] ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0),
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

/** One job of ours on this app and environment, as the audit stream saw it. */
export interface AuditedJob {
  ref: string;
  verb: string;
  userId: string;
  channelId: string;
  /** When it was accepted (queued), if recorded. */
  startedAt?: number;
  /** When it last succeeded or failed; absent while it runs. */
  endedAt?: number;
  /** Removed from the queue before it ran (`cancel`): it made nothing. */
  cancelled?: boolean;
}

/** A job and the job it became after approval share the base id `cmd-<request id>`. */
const JOB_BASE = /^cmd-[a-f0-9]+/;
const TERMINAL = new Set(['succeeded', 'failed']);
/** Verbs whose jobs never make a new revision (they change replicas or nodes, or nothing in the cluster). */
const NO_REVISION_VERBS = new Set(['scale', 'label', 'cancel']);

/** Groups audit entries (any order) into jobs by their job id. Entries without a job id are ignored. */
export function auditedJobs(entries: readonly StoredAuditEntry[]): AuditedJob[] {
  const jobs = new Map<string, AuditedJob>();
  for (const e of [...entries].sort((a, b) => a.at - b.at)) {
    const base = e.ref ? JOB_BASE.exec(e.ref)?.[0] : undefined;
    if (!base) continue;
    let job = jobs.get(base);
    if (!job) {
      job = { ref: base, verb: e.verb, userId: e.userId, channelId: e.channelId };
      jobs.set(base, job);
    }
    if (e.outcome === 'accepted' && job.startedAt === undefined) job.startedAt = e.at;
    if (TERMINAL.has(e.outcome)) job.endedAt = Math.max(job.endedAt ?? 0, e.at);
    if (e.outcome === 'cancelled') job.cancelled = true;
  }
  return [...jobs.values()];
}

const fromJob = (job: AuditedJob): Attribution => ({ source: 'audit', userId: job.userId, channelId: job.channelId, verb: job.verb, ref: job.ref });

/**
 * Which of our jobs made each revision.
 *
 * 1. A ReplicaSet carrying our request-id annotation (the real Deployment
 *    controller copies the Deployment's annotations onto the ReplicaSet it
 *    creates) is that job's — when the job ran at the time the ReplicaSet
 *    appeared; a later restart or rollback can leave a stale id behind.
 * 2. Otherwise by time: jobs on one app and environment run one at a time (the
 *    per-target lock) and a revision's ReplicaSet is created while its job runs.
 *    ReplicaSets are taken oldest first and each gets the earliest-ending job not
 *    yet used that was accepted before it appeared and had not ended by then.
 *    `skewMs` absorbs clock differences; creation times are whole seconds.
 * 3. Otherwise what the annotations say (a user name and channel), when no other
 *    revision carries the same request id and our audit does not contradict it.
 */
export function attributeRevisions(revisions: readonly Revision[], jobs: readonly AuditedJob[], skewMs = 1_000): Revision[] {
  const byRef = new Map(jobs.map((j) => [j.ref, j]));
  const used = new Set<string>();
  const result = new Map<Revision, Attribution | undefined>();
  const ranAt = (job: AuditedJob, created: number) =>
    job.startedAt !== undefined && job.startedAt <= created + 1_000 + skewMs && (job.endedAt ?? Number.POSITIVE_INFINITY) >= created - skewMs;

  for (const rev of revisions) {
    const job = rev.by?.ref ? byRef.get(rev.by.ref) : undefined;
    const created = rev.createdAt?.getTime();
    if (job && created !== undefined && ranAt(job, created)) {
      result.set(rev, fromJob(job));
      used.add(job.ref);
    }
  }
  const oldestFirst = revisions
    .filter((r) => !result.has(r) && r.createdAt)
    .sort((a, b) => a.createdAt!.getTime() - b.createdAt!.getTime() || a.revision - b.revision);
  const candidates = jobs.filter((j) => !NO_REVISION_VERBS.has(j.verb) && !j.cancelled);
  for (const rev of oldestFirst) {
    const created = rev.createdAt!.getTime();
    let best: AuditedJob | undefined;
    for (const job of candidates) {
      if (used.has(job.ref) || !ranAt(job, created)) continue;
      if (!best || (job.endedAt ?? Number.POSITIVE_INFINITY) < (best.endedAt ?? Number.POSITIVE_INFINITY)) best = job;
    }
    if (best) {
      used.add(best.ref);
      result.set(rev, fromJob(best));
    }
  }
  const refCount = new Map<string, number>();
  for (const rev of revisions) if (rev.by?.ref) refCount.set(rev.by.ref, (refCount.get(rev.by.ref) ?? 0) + 1);
  return revisions.map((rev) => {
    const found = result.get(rev);
    if (found) return { ...rev, by: found };
    // A request id our audit knows but whose job ran at another time is stale: say nothing rather than guess.
    const ref = rev.by?.ref;
    const annotated = rev.by?.source === 'annotations' && (!ref || ((refCount.get(ref) ?? 0) === 1 && !byRef.has(ref))) ? rev.by : undefined;
    const { by: _by, ...rest } = rev;
    return annotated ? { ...rest, by: annotated } : rest;
  });
}
