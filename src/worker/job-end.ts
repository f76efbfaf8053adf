/**
 * A job's end, made safe against a worker killed while saying it. The outcome is recorded in
 * the job right before the ✅/❌ is sent, so a copy that BullMQ hands out again never makes the
 * change a second time; the copy only finishes what the dead run may have left undone.
 */
import type { Job } from 'bullmq';
import type { CommandJobData } from '../queue/commands.js';
import type { TargetLocks } from '../queue/target-lock.js';
import type { Progress } from '../slack/progress.js';
import type { Logger } from '../log.js';

type End = Omit<NonNullable<CommandJobData['final']>, 'headline'>;

/** Records the run's end in the job: a copy of it only completes (see completeFinished). */
export async function recordEnd(job: Job<CommandJobData>, outcome: 'succeeded' | 'failed', end: CommandJobData['final'], log: Logger) {
  job.data.finished = outcome;
  job.data.final = end;
  await job.updateData(job.data).catch((err: unknown) => log.warn({ err }, 'could not record that the job ran to its end'));
}

/** `progress` whose `finish` first records the end (`end()`: the lock held, the audit to write) with the headline. */
export function recordingEnd(progress: Progress, job: Job<CommandJobData>, end: () => End, log: Logger): Progress {
  return {
    get threadTs() {
      return progress.threadTs;
    },
    start: (message) => progress.start(message),
    step: (text) => progress.step(text),
    async finish(outcome, headline, details) {
      await recordEnd(job, outcome, { ...end(), headline }, log);
      await progress.finish(outcome, headline, details);
    },
  };
}

/**
 * A copy of a job whose run had reached its end: the change is not made again. The headline is sent
 * again (an update of the same message to the same text: the first may never have left), the target
 * lock freed if the dead run still held it, and the audit entry written unless the dead run wrote it.
 */
export async function completeFinished(
  job: Job<CommandJobData>,
  deps: {
    progress: Progress;
    locks: TargetLocks;
    audit: (target: { env?: string; app?: string }, detail: string | undefined) => Promise<unknown>;
    log: Logger;
  },
): Promise<void> {
  const final = job.data.final;
  if (!final || !job.id) return;
  if (final.headline && job.data.threadTs)
    await deps.progress
      .finish(job.data.finished ?? 'succeeded', final.headline)
      .catch((err: unknown) => deps.log.warn({ err }, 'could not report the end of the job again'));
  const lock = final.lock;
  // Compare-and-delete on the job id, as for a hold: only if the dead run still held it.
  if (lock && (await deps.locks.holder(lock.env, lock.app))?.jobId === job.id) await deps.locks.releaseHold(lock.env, lock.app, job.id);
  // The run's own detail died with it; its headline says what it did.
  if (final.audit)
    await deps.audit(final.audit, final.headline ? `${final.headline.text} (entry written by a resumed copy of the job)` : undefined);
}
