import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Services } from '../command/services.js';
import type { WorkerVerb, WorkerVerbContext } from '../command/types.js';
import { approvalsTotal } from '../server/metrics.js';
import type { ApprovalRule } from './policy.js';
import { ApprovalStore, type ApprovalRequest } from './store.js';
import { approvalDecidedMessage, approvalRequestMessage } from './messages.js';
import { denied } from '../errors/index.js';
import { dryRunRefusal } from '../command/types.js';
import { dryRunVerb } from '../command/dry-run.js';
import { diffDigest } from '../kube/diff.js';
import { diffLines } from '../slack/views/diff.js';
import { sealSecretArgs } from '../command/secret-args.js';

export const APPROVAL_EXPIRY_QUEUE = 'approval-expiry';

/**
 * Instead of running a gated command, post the approval request (with what will
 * change) in the channel. Idempotent: a retried job finds the same request.
 */
export async function requestApproval(
  ctx: WorkerVerbContext<unknown>,
  verb: WorkerVerb,
  rule: ApprovalRule,
  rawArgs: Record<string, unknown>,
  target: { env?: string; app?: string },
  deps: { store: ApprovalStore; expiryQueue: Queue },
  round = 1,
): Promise<'succeeded'> {
  // Fix what the run will do now, and show approvers exactly that.
  const pinned = verb.pin ? await verb.pin(ctx).catch(() => ({})) : {};
  const args = { ...rawArgs, ...pinned };
  const reparsed = verb.schema.safeParse(args);
  const pinnedCtx = reparsed.success ? { ...ctx, args: reparsed.data as unknown } : ctx;
  // A refusal is the requester's answer, before any approver is asked.
  if (verb.vet) await verb.vet(pinnedCtx);
  const changes = verb.preview
    ? await verb
        .preview(pinnedCtx)
        .catch((err: unknown) => [`(could not work out the change: ${String((err as Error).message ?? err).slice(0, 200)})`])
    : [];
  const diff = await approvalDiff(pinnedCtx, verb, target.app);
  const now = Date.now();
  // Secret values are kept sealed in the record; the approved run's worker opens them.
  const split = sealSecretArgs(verb, reparsed.success ? args : rawArgs, ctx.config, ctx.services.signer, ctx.request.requestId);
  const request = await deps.store.create({
    verb: verb.verb,
    ...split,
    description: verb.describe(pinnedCtx.args),
    env: target.env ?? '',
    ...(target.app ? { app: target.app } : {}),
    request: ctx.request,
    changes,
    ...(diff ?? {}),
    ...(round > 1 ? { round } : {}),
    minApprovals: rule.minApprovals,
    createdAt: now,
    expiresAt: now + rule.timeout,
  });
  if (!request.messageTs) {
    await ctx.progress.start(approvalRequestMessage(request, rule));
    if (ctx.progress.threadTs) await deps.store.setMessageTs(request.id, ctx.progress.threadTs);
    await deps.expiryQueue.add(
      'expire',
      { id: request.id },
      { jobId: `expire-${request.id}`, delay: Math.max(0, request.expiresAt - Date.now()), removeOnComplete: true, removeOnFail: 100 },
    );
    approvalsTotal.inc({ outcome: 'requested' });
    await ctx.services.audit.record({
      outcome: 'approval_requested',
      verb: verb.verb,
      command: ctx.request.text.slice(0, 200),
      userId: ctx.request.userId,
      channelId: ctx.request.channelId,
      ...target,
      ref: request.id,
      ...(changes.length ? { detail: changes.join('; ').slice(0, 500) } : {}),
    });
  }
  return 'succeeded';
}

/** Lines of the approval diff kept in the record and shown inline (the digest covers the whole diff). */
export const DIFF_MAX_LINES = 40;

/**
 * The diff approvers see: the verb's own run as a server-side dry run (src/command/dry-run.ts).
 * Undefined for verbs that cannot be dry-run (`run`: an exec); a failed dry run says so in the diff.
 */
export async function approvalDiff(
  ctx: WorkerVerbContext<unknown>,
  verb: WorkerVerb,
  app: string | undefined,
): Promise<{ diff: string[]; diffDigest: string } | undefined> {
  if (dryRunRefusal(verb, ctx.args)) return undefined;
  try {
    const { diff } = await dryRunVerb(ctx, verb, app);
    const lines = diffLines(diff);
    const shown =
      lines.length > DIFF_MAX_LINES
        ? [...lines.slice(0, DIFF_MAX_LINES), `… ${lines.length - DIFF_MAX_LINES} more lines (\`--dry-run\` shows them all)`]
        : lines;
    return { diff: shown, diffDigest: diffDigest(diff) };
  } catch (err) {
    ctx.log.warn({ err: String(err) }, 'could not compute the approval diff');
    return { diff: [`(the dry run failed: ${String((err as Error).message ?? err).slice(0, 200)})`], diffDigest: 'failed' };
  }
}

/**
 * A job that claims an approval runs only if Redis says that very request was approved
 * and not yet run by another job (`runId` = this job's id and creation time).
 */
export async function verifyApproved(store: ApprovalStore, approvalId: string, requestId: string, runId: string): Promise<ApprovalRequest> {
  const approval = await store.get(approvalId);
  if (approval?.state === 'executed' && approval.request.requestId === requestId && approval.executedBy !== runId)
    throw alreadyRun(approval);
  const ours = approval?.state === 'approved' || (approval?.state === 'executed' && approval.executedBy === runId);
  // Approved needs that many signed approvers (a state edited in Redis to `approved` has none).
  const enough = approval !== undefined && approval.approvals.length >= approval.minApprovals;
  if (!approval || approval.request.requestId !== requestId || !ours || !enough) {
    throw denied(`This change has no valid approval (request ${approvalId} is ${approval?.state ?? 'unknown'}); nothing was changed.`);
  }
  return approval;
}

const alreadyRun = (approval: ApprovalRequest) =>
  denied(
    `This approved change already ran${approval.executedAt ? ` (started ${new Date(approval.executedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}; an approval runs once. Nothing was changed — ask again if it is needed again.`,
  );

/**
 * approved → executed, right before the run: the one run an approval allows. Refuses
 * (and says so) a request already run by another job or past its run deadline.
 */
export async function claimApprovedRun(store: ApprovalStore, approval: ApprovalRequest, runId: string): Promise<void> {
  const claim = await store.claimRun(approval.id, runId);
  if (claim === 'claimed' || claim === 'resumed') return;
  if (claim === 'already_executed') throw alreadyRun((await store.get(approval.id)) ?? approval);
  if (claim === 'past_deadline') {
    throw denied(
      `This change was approved ${approval.runBy ? `but had to start by ${new Date(approval.runBy).toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'too long ago'}; an old approval is not used. Nothing was changed — ask again.`,
    );
  }
  throw denied(
    `This change has no valid approval (request ${approval.id} is ${claim === 'missing' ? 'unknown' : 'no longer approved'}); nothing was changed.`,
  );
}

/** Expires requests at their deadline — also after restarts: the delayed job lives in Redis. */
export function startExpiryWorker(deps: {
  connection: Redis;
  prefix?: string;
  store: ApprovalStore;
  slack: WebClient;
  services: Services;
  log: Logger;
  config: Config;
  onConnectionError?: (err: Error) => void;
}): Worker {
  const worker = new Worker<{ id: string }>(
    APPROVAL_EXPIRY_QUEUE,
    async (job: Job<{ id: string }>, token?: string) => {
      const closed = await deps.store.close(job.data.id, 'expired', 'system');
      if (closed.result === 'not_due' && closed.request) {
        await job.moveToDelayed(closed.request.expiresAt + 50, token);
        throw new DelayedError();
      }
      if ((closed.result === 'closed' || closed.result === 'expired') && closed.request) {
        await announceDecision(deps.slack, closed.request, deps.log);
        approvalsTotal.inc({ outcome: 'expired' });
        await deps.services.audit.record({
          outcome: 'expired',
          verb: closed.request.verb,
          command: closed.request.request.text.slice(0, 200),
          userId: closed.request.request.userId,
          channelId: closed.request.request.channelId,
          env: closed.request.env,
          ...(closed.request.app ? { app: closed.request.app } : {}),
          ref: closed.request.id,
        });
      }
    },
    { connection: deps.connection, ...(deps.prefix ? { prefix: deps.prefix } : {}), concurrency: 5 },
  );
  worker.on('error', deps.onConnectionError ?? ((err) => deps.log.warn({ err }, 'approval expiry worker error')));
  return worker;
}

/** Replaces the request message with its decided form (buttons gone). */
export async function announceDecision(slack: WebClient, request: ApprovalRequest, log: Logger): Promise<void> {
  if (!request.messageTs) return;
  const message = approvalDecidedMessage(request);
  try {
    await slack.chat.update({
      channel: request.request.channelId,
      ts: request.messageTs,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
    });
  } catch (err) {
    log.warn({ err, approval: request.id }, 'could not update the approval message');
  }
}
