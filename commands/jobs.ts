import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { formatDuration } from '../src/config/duration.js';
import { bindingFor } from '../src/policy/index.js';
import { readStore } from '../src/queue/command-jobs.js';
import { describeQueuedJob, jobsView, type WorkItem } from '../src/slack/views/jobs.js';

const schema = z.object({});
type Args = z.infer<typeof schema>;

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

    const open = await ctx.services.jobs.open((job) => {
      if (!visible(job.data.request.channelId)) return undefined;
      const { target } = describeQueuedJob(ctx.verbs, job.data);
      return target.env && target.app && ctx.verbs.get(job.data.verb)?.class !== 'read' ? { env: target.env, app: target.app } : undefined;
    });
    const items: WorkItem[] = open
      .filter(({ job }) => visible(job.data.request.channelId))
      .map(({ job, state, startedAt }) => ({
        id: job.id ?? '',
        what: describeQueuedJob(ctx.verbs, job.data).what,
        state,
        userId: job.data.request.userId,
        channelId: job.data.request.channelId,
        queuedAt: job.timestamp,
        ...((state === 'running' || state === 'resuming') && startedAt ? { startedAt } : {}),
        ...(job.attemptsMade > 0 ? { attemptsMade: job.attemptsMade } : {}),
      }));

    const now = Date.now();
    for (const a of await readStore(ctx.services.approvals.listPending(), 'approval requests')) {
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
    await ctx.reply(jobsView(items, { allChannels, channelId: ctx.request.channelId }));
  },
});
