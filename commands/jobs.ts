import { z } from 'zod';
import type { Job } from 'bullmq';
import { defineVerb } from '../src/command/types.js';
import { unavailable } from '../src/errors/index.js';
import { formatDuration } from '../src/config/duration.js';
import { bindingFor } from '../src/policy/index.js';
import type { CommandJobData } from '../src/queue/commands.js';
import { context } from '../src/slack/blocks.js';
import { TargetLocks } from '../src/worker/target-lock.js';
import { describeQueuedJob, jobsView, type WorkItem, type WorkState } from '../src/slack/views/jobs.js';

const schema = z.object({});
type Args = z.infer<typeof schema>;

/** BullMQ states of work that is not finished. */
const OPEN_STATES = ['active', 'waiting', 'prioritized', 'delayed'] as const;
const MAX_PER_STATE = 200;
/** Answered inside Slack's 3 s: Redis gets this long. */
const READ_TIMEOUT_MS = 1_500;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function stateOf(bullState: (typeof OPEN_STATES)[number], job: Job<CommandJobData>): WorkState {
  if (bullState === 'active') return 'running';
  if (bullState !== 'delayed') return 'queued';
  if (job.data.waitingNotified) return 'waiting for lock';
  return job.attemptsMade > 0 ? 'retrying' : 'delayed';
}

export default defineVerb<Args>({
  verb: 'jobs',
  summary: 'Queued, waiting-for-approval and running work: what, who asked and when',
  usage: 'jobs',
  example: 'jobs',
  class: 'read',
  runsIn: 'app',
  positionals: [],
  schema,
  target: () => ({}),
  async run(ctx) {
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    // Ops channels (every environment) see everyone's work; others see their own channel's.
    const allChannels = binding?.environments.includes('*') ?? false;
    const visible = (channelId: string) => allChannels || channelId === ctx.request.channelId;

    let lists: Array<Job<CommandJobData>[]>;
    try {
      lists = await withTimeout(
        Promise.all(OPEN_STATES.map((s) => ctx.services.queue.getJobs([s], 0, MAX_PER_STATE - 1, true))),
        'job queue',
      );
    } catch (err) {
      throw unavailable('I cannot read the job queue (Redis) right now; try again in a minute.', err);
    }
    const locks = new TargetLocks(ctx.services.redis, ctx.services.prefix);
    const seen = new Set<string>();
    const items: WorkItem[] = [];
    for (const [i, bullState] of OPEN_STATES.entries()) {
      for (const job of lists[i] ?? []) {
        // A job that moved between two reads shows once, in its first (most advanced) state.
        if (!job?.id || seen.has(job.id) || !job.data?.request) continue;
        seen.add(job.id);
        if (!visible(job.data.request.channelId)) continue;
        const { what, target } = describeQueuedJob(ctx.verbs, job.data);
        let state = stateOf(bullState, job);
        let startedAt = bullState === 'active' ? job.processedOn : undefined;
        if (bullState === 'active' && target.env && target.app && ctx.verbs.get(job.data.verb)?.class !== 'read') {
          // A job waiting for its target is taken for a moment every few seconds to look again: only the lock holder runs.
          const holder = await withTimeout(locks.holder(target.env, target.app), 'target lock').catch(() => undefined);
          if (holder && holder.jobId !== job.id) state = 'waiting for lock';
          else if (holder) startedAt = holder.since;
        }
        items.push({
          id: job.id,
          what,
          state,
          userId: job.data.request.userId,
          channelId: job.data.request.channelId,
          queuedAt: job.timestamp,
          ...(state === 'running' && startedAt ? { startedAt } : {}),
          ...(job.attemptsMade > 0 ? { attemptsMade: job.attemptsMade } : {}),
        });
      }
    }

    let approvalsNote: string | undefined;
    try {
      const now = Date.now();
      for (const a of await withTimeout(ctx.services.approvals.listPending(), 'approval requests')) {
        if (!visible(a.request.channelId)) continue;
        items.push({
          id: a.id,
          what: a.description,
          state: 'waiting for approval',
          userId: a.request.userId,
          channelId: a.request.channelId,
          queuedAt: a.createdAt,
          detail: `${a.approvals.length} of ${a.minApprovals} approval${a.minApprovals === 1 ? '' : 's'}, expires in ${formatDuration(Math.max(0, a.expiresAt - now))}`,
        });
      }
    } catch (err) {
      ctx.log.warn({ err }, 'jobs: could not list pending approvals');
      approvalsNote = ':warning: Requests waiting for approval could not be read just now; they are not listed.';
    }
    const view = jobsView(items, { allChannels, channelId: ctx.request.channelId });
    if (approvalsNote) view.blocks?.push(context(approvalsNote));
    await ctx.reply(view);
  },
});
