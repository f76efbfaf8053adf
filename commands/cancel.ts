import { z } from 'zod';
import { defineVerb, type VerbContext } from '../src/command/types.js';
import { formatDuration } from '../src/config/duration.js';
import { denied, isChatOpsError, notFound, unavailable } from '../src/errors/index.js';
import { announceDecision } from '../src/approvals/gate.js';
import { allowedEnvironments, bindingFor } from '../src/policy/index.js';
import type { Job } from 'bullmq';
import type { CommandJobData } from '../src/queue/commands.js';
import { HANDED_OVER } from '../src/queue/command-jobs.js';
import { storeUnreachable } from '../src/queue/redis.js';
import { TamperedRecordError } from '../src/security/signing.js';
import { reportTampered } from '../src/security/tampered.js';
import { context, escapeMrkdwn, mention, section, type SlackMessage } from '../src/slack/blocks.js';
import { describeQueuedJob } from '../src/slack/views/jobs.js';

/** As `jobs` shows them: `cmd-<request id>` (optionally `-approved`), or an approval request `apr-…`. */
const JOB_ID = /^cmd-[a-f0-9]{24}(-[a-z0-9]{1,20})?$/;
const APPROVAL_ID = /^apr-[A-Za-z0-9_-]{8,32}$/;

const schema = z.object({
  job: z
    .string()
    .max(64, 'job is at most 64 characters')
    .refine((id) => JOB_ID.test(id) || APPROVAL_ID.test(id), 'job must be an id as `/k8s jobs` shows it, like `cmd-3f9a…` or `apr-…`'),
});
type Args = z.infer<typeof schema>;
type Ctx = VerbContext<Args>;

/** The requester may cancel their own work; an ops channel (one allowed every command) anyone's. */
function mayCancel(ctx: Ctx, requesterId: string): void {
  if (ctx.request.userId === requesterId) return;
  if (bindingFor(ctx.config, ctx.request.channelId)?.commands.includes('*')) return;
  throw denied(`Only ${mention(requesterId)}, who asked for it, or an ops channel (one allowed every command) may cancel it.`);
}

/**
 * A channel acts only on work of environments it is bound to; work with no environment
 * only from the channel it came from (or one bound to every environment).
 */
function inScope(ctx: Ctx, env: string | undefined, fromChannel: string): void {
  const binding = bindingFor(ctx.config, ctx.request.channelId);
  if (binding?.environments.includes('*')) return;
  if (env !== undefined ? binding && allowedEnvironments(ctx.config, binding).includes(env) : fromChannel === ctx.request.channelId) return;
  throw denied(
    env !== undefined
      ? `This channel may not touch \`${env}\`, so it may not cancel its work either.`
      : 'That work was asked for in another channel; cancel it from there.',
  );
}

/** Tell the channel when someone else's work is cancelled; the requester alone otherwise. */
async function answer(ctx: Ctx, requesterId: string, message: SlackMessage): Promise<void> {
  if (ctx.request.userId === requesterId) await ctx.reply(message);
  else await ctx.replyInChannel(message);
}

function runningAnswer(
  ctx: Ctx,
  job: Job<CommandJobData>,
  what: string,
  target: { env?: string; app?: string },
  handedOver = false,
): SlackMessage {
  const verb = ctx.verbs.get(job.data.verb);
  const elapsed = job.processedOn ? formatDuration(Math.max(0, Date.now() - job.processedOn)) : undefined;
  const state = handedOver
    ? `started${elapsed ? ` ${elapsed} ago` : ''}, was cut off by a worker stopping and resumes where it was as soon as a worker runs,`
    : `is already running${elapsed ? ` for ${elapsed}` : ''}`;
  const head = `:gear: \`${escapeMrkdwn(what)}\` (job \`${job.id}\`, asked by ${mention(job.data.request.userId)}) ${state} and cannot be cancelled.`;
  let why: string;
  if (verb?.class === 'read') {
    why = 'It only reads from the cluster and will be done in a moment; nothing to undo.';
  } else {
    const undo =
      target.app && target.env
        ? (verb?.undoHint?.({ app: target.app, env: target.env }) ??
          `To undo it afterwards: \`/k8s rollback ${target.app} ${target.env}\` (\`/k8s history ${target.app} ${target.env}\` shows the revisions).`)
        : `To undo it afterwards, run the opposite \`/k8s ${job.data.verb}\` command.`;
    why = `A change is not stopped half-way: stopping a rollout mid-way would leave the app between two versions. It runs to the end (or fails on its own) and reports in its thread. ${undo}`;
  }
  return { text: `${head} ${why}`, blocks: [section(head), context(why)] };
}

async function cancelJob(ctx: Ctx, id: string): Promise<void> {
  const job = await ctx.services.jobs.get(id);
  if (!job?.data?.request) {
    throw notFound(`There is no job \`${id}\`. \`/k8s jobs\` lists the queued and running ones; finished jobs are forgotten after a day.`);
  }
  const requester = job.data.request.userId;
  const { what, target } = describeQueuedJob(ctx.verbs, job.data);
  inScope(ctx, target.env, job.data.request.channelId);
  mayCancel(ctx, requester);
  // A job waiting for its target's lock is taken by a worker for a moment every few seconds to look
  // again, then goes back to delayed: that is not running yet.
  let state = await ctx.services.jobs.settledState(job, target);
  if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
    try {
      await job.remove();
    } catch (err) {
      // A worker took it between our two reads: it is running now.
      state = await ctx.services.jobs.state(job);
      if (state !== 'active') throw unavailable(`Job \`${id}\` could not be removed just now (it is ${state}); try again.`, err);
    }
  }
  if (state === 'active' || state === HANDED_OVER) {
    await ctx.reply(runningAnswer(ctx, job, what, target, state === HANDED_OVER));
    return;
  }
  if (state === 'completed' || state === 'failed') {
    const text = `Job \`${id}\` (\`${escapeMrkdwn(what)}\`) already ${state === 'completed' ? 'finished' : 'failed'}; there is nothing to cancel.${target.app && target.env ? ` \`/k8s status ${target.app} ${target.env}\` shows where things stand.` : ''}`;
    await ctx.reply({ text });
    return;
  }
  if (state === 'unknown') throw notFound(`Job \`${id}\` is gone (it just finished or was removed). \`/k8s jobs\` lists current work.`);

  // Removed before it ran. An approved run cancelled spends its approval: no click can bring it back.
  if (job.data.approvalId) await ctx.services.approvals.withdrawApproved(job.data.approvalId, ctx.request.userId);
  const retried = job.attemptsMade > 0;
  await ctx.services.audit.record({
    outcome: 'cancelled',
    verb: job.data.verb,
    command: job.data.request.text.slice(0, 200),
    userId: ctx.request.userId,
    channelId: ctx.request.channelId,
    ...target,
    ref: id,
    detail: `cancelled ${state} job of ${requester}${retried ? ` after ${job.attemptsMade} attempt(s)` : ''}`,
  });
  const by = ctx.request.userId === requester ? 'by the requester' : `by ${mention(ctx.request.userId)}`;
  const headline = `:heavy_multiplication_x: ~${escapeMrkdwn(what)}~ — cancelled ${by} ${retried ? 'before its next attempt' : 'before it ran'} (requested by ${mention(requester)})`;
  if (job.data.threadTs) {
    // The "waiting for …" message the worker posted: say it will not run. Not awaited: the ack must stay fast.
    void ctx.services.slack.chat
      .update({ channel: job.data.request.channelId, ts: job.data.threadTs, text: headline, blocks: [section(headline)] })
      .catch((err: unknown) => ctx.log.warn({ err, job: id }, "cancel: could not update the job's message"));
  }
  const text = `:heavy_multiplication_x: Cancelled \`${escapeMrkdwn(what)}\` (job \`${id}\`, requested by ${mention(requester)}); it will not run.${
    retried
      ? ` It had already been tried ${job.attemptsMade} time(s) and failed; whatever those attempts changed stays${target.app && target.env ? ` — check \`/k8s status ${target.app} ${target.env}\`` : ''}.`
      : ' Nothing was changed.'
  }`;
  await answer(ctx, requester, { text });
}

async function cancelApproval(ctx: Ctx, id: string): Promise<void> {
  const request = await ctx.services.approvals.get(id).catch(async (err: unknown) => {
    if (!(err instanceof TamperedRecordError)) throw storeUnreachable(err);
    await reportTampered({ audit: ctx.services.audit, log: ctx.log }, err, {
      userId: ctx.request.userId,
      channelId: ctx.request.channelId,
    });
    throw denied(
      `The request \`${id}\` failed its integrity check (it was changed outside the bot), so it can no longer be approved and will not run; there is nothing to cancel.`,
    );
  });
  if (!request) throw notFound(`There is no approval request \`${id}\`. \`/k8s jobs\` lists the pending ones.`);
  const requester = request.request.userId;
  inScope(ctx, request.env || undefined, request.request.channelId);
  mayCancel(ctx, requester);
  if (request.state !== 'pending') {
    await ctx.reply({
      text: `The request \`${id}\` (\`${escapeMrkdwn(request.description)}\`) is already ${request.state}; there is nothing to cancel.`,
    });
    return;
  }
  const closed = await ctx.services.approvals.close(id, 'cancelled', ctx.request.userId);
  if (closed.result !== 'closed' || !closed.request) {
    await ctx.reply({ text: `The request \`${id}\` is no longer pending (${closed.request?.state ?? closed.result}); nothing to cancel.` });
    return;
  }
  await ctx.services.audit.record({
    outcome: 'cancelled',
    verb: request.verb,
    command: request.request.text.slice(0, 200),
    userId: ctx.request.userId,
    channelId: ctx.request.channelId,
    env: request.env,
    ...(request.app ? { app: request.app } : {}),
    ref: id,
    detail: `cancelled approval request of ${requester}`,
  });
  void announceDecision(ctx.services.slack, closed.request, ctx.log);
  await answer(ctx, requester, {
    text: `:heavy_multiplication_x: Cancelled the request \`${id}\` (\`${escapeMrkdwn(request.description)}\`, asked by ${mention(requester)}); it will not run and nothing was changed.`,
  });
}

export default defineVerb<Args>({
  verb: 'cancel',
  summary: 'Cancel queued work (or a request waiting for approval) before it runs',
  usage: 'cancel <job>',
  example: 'cancel cmd-3f9a0c1d2e4b5a6978c0d1e2',
  class: 'write',
  runsIn: 'app',
  makesRevision: false,
  positionals: ['job'],
  schema,
  target: () => ({}),
  async run(ctx) {
    const id = ctx.args.job;
    try {
      if (APPROVAL_ID.test(id)) await cancelApproval(ctx, id);
      else await cancelJob(ctx, id);
    } catch (err) {
      // Reads fail as storeUnreachable already; the rest are writes to the same store (removal, approval, audit).
      if (isChatOpsError(err)) throw err;
      throw storeUnreachable(err);
    }
  },
});
