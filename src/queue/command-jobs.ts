/**
 * Unfinished command jobs as people think of them: BullMQ's states read
 * together with the target locks, so a job that a worker takes for a moment
 * to look at its target's lock again counts as waiting, not running.
 */
import type { Job, Queue } from 'bullmq';
import type { CommandJobData } from './commands.js';
import { storeUnreachable } from './redis.js';
import type { TargetLocks } from './target-lock.js';

export type OpenJobState = 'running' | 'resuming' | 'queued' | 'waiting for lock' | 'retrying' | 'delayed';

export interface OpenJob {
  job: Job<CommandJobData>;
  state: OpenJobState;
  /** When it started running: when it took its target's lock, else when a worker took it. */
  startedAt?: number;
}

/** What a job writes to, when it takes a target lock (a write verb on an app in an environment). */
export type LockedTarget = (job: Job<CommandJobData>) => { env: string; app: string } | undefined;

/** BullMQ states of work that is not finished, most advanced first. */
const OPEN_STATES = ['active', 'waiting', 'prioritized', 'delayed'] as const;
const MAX_PER_STATE = 200;
/** Answered inside Slack's 3 s: Redis gets this long. */
const READ_TIMEOUT_MS = 1_500;
/** `settledState` of a job that started its change and was handed over by a stopping worker: it resumes, it is not queued. */
export const HANDED_OVER = 'handed-over';

/** How long `settledState` waits for a job that is only looking at its target's lock to go back to waiting. */
const LOCK_CHECK_LOOKS = 10;
const LOCK_CHECK_PAUSE_MS = 50;

/** A read of ours from Redis, bounded so an answer still reaches Slack in time. */
function withReadTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A read for `jobs` or `cancel`, bounded as withReadTimeout; failing, or not answered in time, it is the one "store unreachable" error. */
export async function readStore<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await withReadTimeout(promise, what);
  } catch (err) {
    throw storeUnreachable(err);
  }
}

function stateOf(bullState: (typeof OPEN_STATES)[number], job: Job<CommandJobData>): OpenJobState {
  if (bullState === 'active') return 'running';
  if (bullState !== 'delayed') return 'queued';
  if (job.data.waitingNotified) return 'waiting for lock';
  return job.attemptsMade > 0 ? 'retrying' : 'delayed';
}

export class CommandJobs {
  constructor(
    private readonly queue: Queue<CommandJobData>,
    private readonly locks: TargetLocks,
  ) {}

  /**
   * Every unfinished job, once, in its most advanced state (a job that moved between two
   * reads shows in its first). Throws `storeUnreachable` when the queue cannot be read in time.
   */
  async open(lockedTarget: LockedTarget): Promise<OpenJob[]> {
    const lists = await readStore(Promise.all(OPEN_STATES.map((s) => this.queue.getJobs([s], 0, MAX_PER_STATE - 1, true))), 'job queue');
    const seen = new Set<string>();
    const jobs: OpenJob[] = [];
    for (const [i, bullState] of OPEN_STATES.entries()) {
      for (const job of lists[i] ?? []) {
        if (!job?.id || seen.has(job.id) || !job.data?.request) continue;
        seen.add(job.id);
        let state = stateOf(bullState, job);
        let startedAt = bullState === 'active' ? job.processedOn : undefined;
        const target = bullState === 'active' || bullState === 'delayed' ? lockedTarget(job) : undefined;
        if (target) {
          // A job waiting for its target is taken for a moment every few seconds to look again: only the lock holder runs.
          // The lock unread (Redis slow), the job shows as BullMQ has it: running (or delayed).
          const holder = await withReadTimeout(this.locks.holder(target.env, target.app), 'target lock').catch(() => undefined);
          if (bullState === 'delayed') {
            // Delayed while it holds its own target: handed over mid-change by a stopping worker (see settledState).
            if (holder?.jobId === job.id) {
              state = 'resuming';
              startedAt = holder.since;
            }
          } else if (holder && holder.jobId !== job.id) state = 'waiting for lock';
          else if (holder) startedAt = holder.since;
        }
        jobs.push({ job, state, ...(startedAt ? { startedAt } : {}) });
      }
    }
    return jobs;
  }

  /** The job with this id, if the queue still has it. Throws `storeUnreachable` when it cannot be read in time. */
  get(id: string): Promise<Job<CommandJobData> | undefined> {
    return readStore(this.queue.getJob(id) as Promise<Job<CommandJobData> | undefined>, 'job');
  }

  /** The job's BullMQ state now. Throws `storeUnreachable` when it cannot be read in time. */
  state(job: Job<CommandJobData>): Promise<string> {
    return readStore(job.getState(), 'job state');
  }

  /**
   * The job's BullMQ state, except that a delayed job holding its own target's lock is HANDED_OVER (started,
   * interrupted by a worker's stop, to be resumed), and a job taken only to look at its target's lock again
   * (held by another job) is waited for, briefly, until it goes back to delayed. Throws `storeUnreachable` as `state`.
   */
  async settledState(job: Job<CommandJobData>, target: { env?: string; app?: string }): Promise<string> {
    let state = await this.state(job);
    if (state === 'delayed' && target.env && target.app) {
      // Delayed while it holds its own target: a worker stopping mid-change handed it over, and it resumes where it was.
      const holder = await readStore(this.locks.holder(target.env, target.app), 'target lock');
      return holder?.jobId === job.id ? HANDED_OVER : state;
    }
    if (state !== 'active' || !target.env || !target.app) return state;
    for (let look = 0; state === 'active' && look < LOCK_CHECK_LOOKS; look++) {
      const holder = await readStore(this.locks.holder(target.env, target.app), 'target lock');
      if (!holder || holder.jobId === job.id) break;
      await new Promise((resolve) => setTimeout(resolve, LOCK_CHECK_PAUSE_MS));
      state = await this.state(job);
    }
    return state;
  }
}
