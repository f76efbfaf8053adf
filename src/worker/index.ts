import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.js';
import { classOf, type Verb, type VerbTarget, type WorkerVerbContext } from '../command/types.js';
import type { Clusters } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import type { MembershipResolver } from '../policy/index.js';
import { authorizeCommand, parseStored, resolveTarget } from '../command/authorize.js';
import { badInput, conflict, describeError, logFailure, type UserFacingError } from '../errors/index.js';
import { errorMessage } from '../slack/errors.js';
import { environmentOf } from '../config/lookup.js';
import { COMMAND_QUEUE, verifyCommandJob, withoutSecrets, type CommandJobData } from '../queue/commands.js';
import { openSecretArgs } from '../command/secret-args.js';
import { TamperedRecordError } from '../security/signing.js';
import { reportTampered } from '../security/tampered.js';
import { ThreadProgress, type Progress } from '../slack/progress.js';
import { completeFinished, recordEnd, recordingEnd } from './job-end.js';
import { postToResponseUrl } from '../slack/respond.js';
import type { SlackMessage } from '../slack/blocks.js';
import { jobDurationSeconds } from '../server/metrics.js';
import type { Services } from '../command/services.js';
import type { TargetLocks } from '../queue/target-lock.js';
import { approvalRuleFor } from '../approvals/policy.js';
import type { ApprovalRequest } from '../approvals/store.js';
import { approvalDiff, claimApprovedRun, requestApproval, verifyApproved } from '../approvals/gate.js';
import type { Queue } from 'bullmq';
import { mention } from '../slack/blocks.js';
import { answerDryRun, dryRunVerb } from '../command/dry-run.js';

export interface WorkerDeps {
  config: Config;
  verbs: ReadonlyMap<string, Verb>;
  clusters: Clusters;
  slack: WebClient;
  members: MembershipResolver;
  log: Logger;
  /** Connection errors go here when set (the process-wide Redis outage report), else to the log. */
  onConnectionError?: (err: Error) => void;
  connection: Redis;
  services: Services;
  prefix?: string;
  concurrency?: number;
  /** How often a job waiting for its target's lock looks again. */
  lockRetryMs?: number;
  /** Delayed jobs that expire approval requests at their deadline. */
  expiryQueue: Queue;
  /** BullMQ lock duration; a dead worker's job is taken over after about this long (stalled-job recovery). */
  jobLockMs?: number;
}

/** What a verb reports when it ran to the end but the change did not succeed (e.g. a failed rollout). */
export type JobOutcome = 'succeeded' | 'failed';

export interface RunningWorker {
  worker: Worker<CommandJobData>;
  /** Stops taking jobs; running ones get `graceMs` to finish, then are aborted (BullMQ re-runs them elsewhere). */
  close(graceMs?: number): Promise<void>;
}

/**
 * After the grace, how long aborted jobs get to hand themselves over (to delayed, target kept) before the worker
 * stops waiting: seconds on a loaded node. Grace + this stays under main's hard exit and the pod's termination grace.
 */
const HAND_OVER_ALLOWANCE_MS = 10_000;

export function startCommandWorker(deps: WorkerDeps): RunningWorker {
  const running = new Set<AbortController>();
  // The lease outlives stalled-job recovery (lock + one stalled check), so a crashed job is
  // resumed before anyone else may take its target.
  const jobLockMs = deps.jobLockMs ?? 30_000;
  const locks = deps.services.locks;
  const processor = async (job: Job<CommandJobData>, token?: string) => {
    const abort = new AbortController();
    running.add(abort);
    const started = performance.now();
    let outcome = 'failed';
    try {
      outcome = await runJob(deps, locks, job, token, abort.signal);
      return outcome;
    } catch (err) {
      if (err instanceof DelayedError) outcome = 'waiting';
      throw err;
    } finally {
      running.delete(abort);
      jobDurationSeconds.observe(
        { verb: deps.verbs.has(job.data.verb) ? job.data.verb : 'unknown', outcome },
        (performance.now() - started) / 1_000,
      );
    }
  };
  const worker = new Worker<CommandJobData>(COMMAND_QUEUE, processor, {
    connection: deps.connection,
    ...(deps.prefix ? { prefix: deps.prefix } : {}),
    concurrency: deps.concurrency ?? 10,
    lockDuration: jobLockMs,
    stalledInterval: jobLockMs,
  });
  worker.on('error', deps.onConnectionError ?? ((err) => deps.log.warn({ err }, 'worker connection error')));
  // A finished job keeps its data for the retention below; its sealed secrets are dropped now.
  const forgetSecrets = (job: Job<CommandJobData> | undefined) => {
    const stripped = job ? withoutSecrets(job.data) : undefined;
    if (!job || !stripped) return;
    job
      .updateData(stripped)
      .catch((err: unknown) => deps.log.warn({ err, job: job.id }, 'could not drop the sealed arguments of a finished job'));
  };
  worker.on('completed', forgetSecrets);
  worker.on('failed', (job) => {
    // 'failed' also fires for an attempt that will be retried: only a finished job is done with its secrets.
    if (job?.finishedOn) forgetSecrets(job);
  });
  return {
    worker,
    async close(graceMs = 25_000) {
      const closing = worker.close();
      const timer = setTimeout(() => running.forEach((a) => a.abort()), graceMs);
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, graceMs + HAND_OVER_ALLOWANCE_MS).unref())]);
      clearTimeout(timer);
    },
  };
}

async function runJob(
  deps: WorkerDeps,
  locks: TargetLocks,
  job: Job<CommandJobData>,
  token: string | undefined,
  signal: AbortSignal,
): Promise<string> {
  // Before anything is taken from the payload (not even where to reply): it must be ours.
  const verdict = verifyCommandJob(deps.services.signer, job.data, job.id ?? '');
  if (verdict === 'forged') {
    const claimed = (job.data ?? {}) as Partial<CommandJobData>;
    await reportTampered({ audit: deps.services.audit, log: deps.log }, new TamperedRecordError('job', job.id ?? ''), {
      verb: String(claimed.verb),
      ...(claimed.request ?? {}),
    });
    throw new UnrecoverableError('refused: the job failed signature verification');
  }
  const { request } = job.data;
  const log = deps.log.child({ job: job.id, verb: job.data.verb, user: request.userId, channel: request.channelId });
  const reply = async (message: SlackMessage, visibility: 'ephemeral' | 'in_channel' = 'ephemeral') => {
    // response_url lasts 30 minutes and 5 posts; after that (a long approval, a long wait) use the Web API.
    if (request.responseUrl && Date.now() - request.receivedAt < 25 * 60_000) {
      const sent = await postToResponseUrl(request.responseUrl, message, visibility, log).then(
        () => true,
        () => false,
      );
      if (sent) return;
    }
    if (visibility === 'in_channel') await deps.slack.chat.postMessage({ channel: request.channelId, ...message });
    else await deps.slack.chat.postEphemeral({ channel: request.channelId, user: request.userId, ...message });
  };
  const progress = new ThreadProgress({
    client: deps.slack,
    channelId: request.channelId,
    ...(request.responseUrl ? { responseUrl: request.responseUrl } : {}),
    ...(job.data.threadTs ? { threadTs: job.data.threadTs } : {}),
    ...(request.threadTs ? { parentThreadTs: request.threadTs } : {}),
    onThreadStarted: async (ts) => {
      job.data.threadTs = ts;
      await job.updateData(job.data);
    },
    log,
  });
  let target: VerbTarget = {};
  // Once per run and outcome: a copy of the job whose worker died around this entry may write it again.
  const audit = (outcome: 'succeeded' | 'failed', detail?: string) =>
    deps.services.audit.record(
      {
        outcome,
        verb: job.data.verb,
        command: request.text.slice(0, 200),
        userId: request.userId,
        channelId: request.channelId,
        ...target,
        ref: job.id ?? '',
        ...(detail ? { detail: detail.slice(0, 500) } : {}),
      },
      `${job.id ?? ''}@${job.timestamp}#${job.attemptsMade}:${outcome}`,
    );
  const makeContext = (args: unknown, progressOfRun: Progress = progress): WorkerVerbContext<unknown> => ({
    args,
    request,
    config: deps.config,
    verbs: deps.verbs,
    services: deps.services,
    log,
    reply: (m) => reply(m, 'ephemeral'),
    replyInChannel: (m) => reply(m, 'in_channel'),
    environment: (name) => {
      const env = environmentOf(deps.config, name);
      if (!env) throw badInput(`There is no environment \`${name}\`.`);
      return { name, namespace: env.namespace, cluster: deps.clusters.forEnvironment(name) };
    },
    progress: progressOfRun,
    signal,
  });
  let release: (() => Promise<void>) | undefined;
  let handOver: (() => Promise<void>) | undefined;
  let lockHeld: { env: string; app: string } | undefined;

  try {
    if (job.data.finished) {
      log.info({ outcome: job.data.finished }, 'job had already run to its end before its worker stopped; not run again');
      const outcome = job.data.finished;
      await completeFinished(job, {
        progress,
        locks,
        log,
        audit: (of, detail) => {
          target = of;
          return audit(outcome, detail);
        },
      });
      return outcome;
    }
    if (verdict === 'stale')
      throw badInput('This command waited in the queue for more than a day, so it was not run; run it again if it is still wanted.');
    // Secret values travel sealed; opened here, right before they are validated and applied.
    const stored = deps.verbs.get(job.data.verb);
    const rawArgs = stored ? openSecretArgs(stored, job.data, deps.config, deps.services.signer, request.requestId) : job.data.args;
    if (rawArgs === undefined) throw new TamperedRecordError('job', job.id ?? '');
    const { verb, args } = parseStored(deps.verbs, job.data.verb, rawArgs);
    target = resolveTarget(deps.config, verb, args, request.channelId);
    // The binding may have changed since the app accepted the command.
    await authorizeCommand(deps, verb, args, target, request);

    if (job.data.dryRun) {
      // A read: no approval, no target lock, no audit. The verb's own run, every write sent with dryRun=All.
      // A long hold (a canary, a blue/green switch) would refuse the real run: the dry run says so instead of a diff.
      const hold = target.env && target.app ? (await locks.holder(target.env, target.app))?.hold : undefined;
      if (hold && !hold.verbs.includes(verb.verb)) throw conflict(hold.hint);
      const ctx = makeContext(args);
      await answerDryRun(ctx, verb.describe(args), await dryRunVerb(ctx, verb, target.app));
      return 'succeeded';
    }

    const rule = approvalRuleFor(deps.config, verb, args, target.env);
    // This run, as opposed to a later job re-added under the same id.
    const runId = `${job.id ?? ''}@${job.timestamp}`;
    let approval: ApprovalRequest | undefined;
    if (rule && job.data.approvalId) {
      approval = await verifyApproved(deps.services.approvals, job.data.approvalId, request.requestId, runId);
    } else if (rule) {
      // Gated: post the approval request instead of running (also when the environment
      // started requiring approval after the command was accepted).
      return await requestApproval(makeContext(args), verb, rule, (rawArgs ?? {}) as Record<string, unknown>, target, {
        store: deps.services.approvals,
        expiryQueue: deps.expiryQueue,
      });
    }

    const verbClass = classOf(verb, args, deps.config);
    if (verbClass !== 'read' && !verb.changesNothing?.(args) && target.env && target.app) {
      const lock = await locks.acquire(target.env, target.app, {
        jobId: job.id ?? '',
        userId: request.userId,
        description: verb.describe(args),
        since: Date.now(),
      });
      let acquired = lock.acquired ? lock : undefined;
      let holder = lock.acquired ? undefined : lock.holder;
      const hold = holder?.hold;
      if (hold) {
        // A long hold (a running canary): only its own verbs act meanwhile, one at a time on a second lock.
        if (!hold.verbs.includes(verb.verb) && hold.requestId !== request.requestId) throw conflict(hold.hint);
        const inner = await locks.acquire(target.env, `${target.app}#hold`, {
          jobId: job.id ?? '',
          userId: request.userId,
          description: verb.describe(args),
          since: Date.now(),
        });
        if (inner.acquired) acquired = inner;
        else holder = inner.holder;
      }
      if (!acquired) {
        if (!job.data.waitingNotified) {
          const who = holder ? `\`${holder.description}\` (job \`${holder.jobId}\`, started by ${mention(holder.userId)})` : 'another job';
          await progress.start({
            text: `:hourglass: ${verb.describe(args)}, requested by ${mention(request.userId)} — waiting for ${who} to finish; one change per app and environment at a time.`,
          });
          job.data.waitingNotified = true;
          await job.updateData(job.data);
        }
        await job.moveToDelayed(Date.now() + (deps.lockRetryMs ?? 1_000), token);
        throw new DelayedError();
      }
      release = acquired.release;
      handOver = acquired.handOver;
      if (acquired === lock) lockHeld = { env: target.env, app: target.app };
    }

    // Approvers saw a diff: the live objects must still give the same one, or nothing is applied and they are asked again.
    // (Only before the run claims the approval: a resumed run finds its own change.)
    if (approval?.state === 'approved' && approval.diffDigest && rule) {
      const now = await approvalDiff(makeContext(args), verb, target.app);
      if (now && now.diffDigest !== approval.diffDigest) {
        await deps.services.approvals.withdrawApproved(approval.id, 'system');
        await progress.step(
          ':warning: The live objects changed after this request was posted, so the approved change would no longer do what approvers saw. Nothing was changed; a new approval request with the new diff follows in the channel.',
        );
        const fresh = new ThreadProgress({
          client: deps.slack,
          channelId: request.channelId,
          ...(request.threadTs ? { parentThreadTs: request.threadTs } : {}),
          onThreadStarted: async () => undefined,
          log,
        });
        return await requestApproval(
          { ...makeContext(args), progress: fresh },
          verb,
          rule,
          (rawArgs ?? {}) as Record<string, unknown>,
          target,
          { store: deps.services.approvals, expiryQueue: deps.expiryQueue },
          (approval.round ?? 1) + 1,
        );
      }
    }
    // Holding the lock, about to change things: the approval is spent now, for this run only.
    if (approval) await claimApprovedRun(deps.services.approvals, approval, runId);
    const audited = (verbClass !== 'read' || verb.auditsReads) && !verb.changesNothing?.(args);
    const end = () => ({ ...(lockHeld ? { lock: lockHeld } : {}), ...(audited ? { audit: { env: target.env, app: target.app } } : {}) });
    // Its ✅/❌ records the end in the job first (job-end.ts): a copy of the job never makes the change again.
    const result = (await verb.run(makeContext(args, recordingEnd(progress, job, end, log)))) ?? 'succeeded';
    const { outcome, detail } = typeof result === 'string' ? { outcome: result, detail: undefined } : result;
    // A verb that ended without a ✅/❌: recorded now, before the target is free (a copy must only complete,
    // never run after a later command on the target and undo it).
    if (job.data.finished !== outcome) await recordEnd(job, outcome, { ...job.data.final, ...end() }, log);
    // The change is done: the next command on this target may start while this one writes its audit entry.
    const releasing = release;
    release = undefined;
    await releasing?.();
    if (audited) await audit(outcome, detail);
    return outcome;
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    if (err instanceof TamperedRecordError) {
      await reportTampered({ audit: deps.services.audit, log }, err, {
        verb: job.data.verb,
        userId: request.userId,
        channelId: request.channelId,
        ...target,
      });
      await reportFailure(
        progress,
        reply,
        err.kind === 'job'
          ? ':no_entry: The arguments of this command failed their integrity check (they were changed outside the bot), so nothing was changed. Ops can find it in the audit log.'
          : ':no_entry: The approval this change ran under failed its integrity check (it was changed outside the bot), so nothing was changed. Ops can find it in the audit log.',
        log,
      );
      throw new UnrecoverableError(`refused: the ${err.kind === 'job' ? 'job' : 'approval record'} failed verification`);
    }
    if (signal.aborted) {
      // Shutting down mid-job: hand it to another worker without using up an attempt. Its target stays
      // taken (the hand-over lease, target-lock.ts), so nothing else runs on it half-changed.
      log.info('worker shutting down; the job is handed over and resumes elsewhere');
      await handOver?.().catch((e: unknown) => log.warn({ err: e }, 'could not stretch the target lease of the handed-over job'));
      release = undefined;
      await job.moveToDelayed(Date.now() + 1_000, token);
      throw new DelayedError();
    }
    const described = describeError(err, log);
    const attempts = job.opts.attempts ?? 1;
    const willRetry = described.retryable && job.attemptsMade + 1 < attempts;
    if (willRetry) {
      logFailure(log, err, described, 'job failed; will retry', { attempt: job.attemptsMade + 1 });
      await progress.step(`${described.text} (attempt ${job.attemptsMade + 1} of ${attempts})`);
      throw err;
    }
    logFailure(log, err, described, 'job failed');
    await reportFailure(progress, reply, job.data.dryRun ? { ...described, text: `Dry run: ${described.text}` } : described, log);
    if (!job.data.dryRun) await audit('failed', described.text);
    throw new UnrecoverableError(described.text);
  } finally {
    await release?.();
  }
}

async function reportFailure(
  progress: ThreadProgress,
  reply: (m: SlackMessage) => Promise<void>,
  failure: string | UserFacingError,
  log: Logger,
): Promise<void> {
  const text = typeof failure === 'string' ? failure : failure.text;
  try {
    if (progress.threadTs)
      await progress.finish('failed', typeof failure === 'string' ? { text: `:x: ${text}` } : errorMessage(failure, `:x: ${text}`));
    else await reply(typeof failure === 'string' ? { text } : errorMessage(failure));
  } catch (err) {
    log.error({ err }, 'could not report a failed job to Slack');
  }
}
