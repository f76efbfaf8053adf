/**
 * Who made each revision of a Deployment, from our own audit records: the
 * audit stream's jobs matched to the ReplicaSets they created.
 */
import type { StoredAuditEntry } from './index.js';
import type { Attribution, Revision } from '../kube/history.js';

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
  /** Its verb never makes a revision (scale, label…). */
  makesNoRevision?: boolean;
}

/** A job and the job it became after approval share the base id `cmd-<request id>`. */
const JOB_BASE = /^cmd-[a-f0-9]+/;
const TERMINAL = new Set(['succeeded', 'failed']);
/**
 * Groups audit entries (any order) into jobs by their job id. Entries without a job id are ignored.
 * `verbs` says which verbs never make a revision (`makesRevision: false`); a verb no longer known may have.
 */
export function auditedJobs(entries: readonly StoredAuditEntry[], verbs: ReadonlyMap<string, { makesRevision?: boolean }>): AuditedJob[] {
  const jobs = new Map<string, AuditedJob>();
  for (const e of [...entries].sort((a, b) => a.at - b.at)) {
    const base = e.ref ? JOB_BASE.exec(e.ref)?.[0] : undefined;
    if (!base) continue;
    let job = jobs.get(base);
    if (!job) {
      job = {
        ref: base,
        verb: e.verb,
        userId: e.userId,
        channelId: e.channelId,
        ...(verbs.get(e.verb)?.makesRevision === false ? { makesNoRevision: true } : {}),
      };
      jobs.set(base, job);
    }
    if (e.outcome === 'accepted' && job.startedAt === undefined) job.startedAt = e.at;
    if (TERMINAL.has(e.outcome)) job.endedAt = Math.max(job.endedAt ?? 0, e.at);
    if (e.outcome === 'cancelled') job.cancelled = true;
  }
  return [...jobs.values()];
}

const fromJob = (job: AuditedJob): Attribution => ({
  source: 'audit',
  userId: job.userId,
  channelId: job.channelId,
  verb: job.verb,
  ref: job.ref,
});

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
    job.startedAt !== undefined &&
    job.startedAt <= created + 1_000 + skewMs &&
    (job.endedAt ?? Number.POSITIVE_INFINITY) >= created - skewMs;

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
  const candidates = jobs.filter((j) => !j.makesNoRevision && !j.cancelled);
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
    const annotated =
      rev.by?.source === 'annotations' && (!ref || ((refCount.get(ref) ?? 0) === 1 && !byRef.has(ref))) ? rev.by : undefined;
    const { by: _by, ...rest } = rev;
    return annotated ? { ...rest, by: annotated } : rest;
  });
}
