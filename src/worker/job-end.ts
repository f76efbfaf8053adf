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

/** `progress` whose `finish` first records the outcome, the headline and the target lock held (`lock()`) in the job. */
export function recordingEnd(
  progress: Progress,
  job: Job<CommandJobData>,
  lock: () => { env: string; app: string } | undefined,
  log: Logger,
): Progress {
  return {
    get threadTs() {
      return progress.threadTs;
    },
    start: (message) => progress.start(message),
    step: (text) => progress.step(text),
    async finish(outcome, headline, details) {
      const held = lock();
      job.data.finished = outcome;
      job.data.final = { headline, ...(held ? { lock: held } : {}) };
      await job.updateData(job.data).catch((err: unknown) => log.warn({ err }, 'could not record the end of the job before reporting it'));
      await progress.finish(outcome, headline, details);
    },
  };
}

/**
 * A copy of a job whose run had reached its end: the change is not made again. The headline is sent
 * again (an update of the same message to the same text: the first may never have left), and if the
 * dead run still held its target lock — it died before freeing it, so before its audit entry too —
 * the lock is freed and the entry written.
 */
export async function completeFinished(
  job: Job<CommandJobData>,
  deps: { progress: Progress; locks: TargetLocks; audit: (target: { env: string; app: string }) => Promise<unknown>; log: Logger },
): Promise<void> {
  const final = job.data.final;
  if (!final || !job.id) return;
  if (job.data.threadTs)
    await deps.progress
      .finish(job.data.finished ?? 'succeeded', final.headline)
      .catch((err: unknown) => deps.log.warn({ err }, 'could not report the end of the job again'));
  const lock = final.lock;
  if (lock && (await deps.locks.holder(lock.env, lock.app))?.jobId === job.id) {
    // Compare-and-delete on the job id, as for a hold.
    await deps.locks.releaseHold(lock.env, lock.app, job.id);
    await deps.audit(lock);
  }
}
