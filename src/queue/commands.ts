import { selfHealingQueue } from './self-healing-queue.js';
import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CommandRequest } from '../command/request.js';
import { unavailable } from '../errors/index.js';
import type { Signer } from '../security/signing.js';
import type { SlackMessage } from '../slack/blocks.js';

export const COMMAND_QUEUE = 'commands';

export interface CommandJobData {
  verb: string;
  /** Named arguments before validation; the worker validates them again with the verb's schema. */
  args: unknown;
  /**
   * The real arguments when `args` holds masked secrets (src/command/secret-args.ts):
   * AES-GCM, bound to the request id, checked against the signed `args`. Outside the
   * signature so that it can be dropped when the job ends.
   */
  sealedArgs?: string;
  request: CommandRequest;
  /** Thread of the job's progress, kept across retries and worker crashes. */
  threadTs?: string;
  /** The requester was told this job waits for another one on the same target. */
  waitingNotified?: boolean;
  /**
   * The run ended with this outcome (recorded before its audit entry): a copy of the job that BullMQ
   * hands out again because its worker died before completing it is not run a second time.
   */
  finished?: 'succeeded' | 'failed';
  /**
   * Recorded with `finished` (right before the run's ✅/❌ is sent, when it sends one): its headline, the target lock
   * the run held, and its audit entry's target if it writes one. A copy of the job sends the same headline again (the
   * same message, unchanged for the reader: the first may not have left), frees the lock if the dead run still held
   * it, and writes the audit entry unless the dead run did (AuditLog's once-key).
   */
  final?: { headline?: SlackMessage; lock?: { env: string; app: string }; audit?: { env?: string; app?: string } };
  /** The approval request this run was approved under (checked against Redis by the worker). */
  approvalId?: string;
  /** `--dry-run`: the worker computes the diff with server-side dry runs and writes nothing (no approval, no lock). */
  dryRun?: boolean;
  /** When the producer signed it (ms since the epoch). */
  signedAt?: number;
  /** HMAC over the job id and what it asks (not the worker's bookkeeping: threadTs, waitingNotified). */
  sig?: string;
}

/** A signed job older than this is refused: past it, BullMQ may have dropped the original, so a copy could be replayed. */
export const MAX_JOB_AGE_MS = 24 * 3600 * 1_000;

function signedPart(data: CommandJobData, jobId: string): unknown {
  return {
    jobId,
    verb: data.verb,
    args: data.args,
    request: data.request,
    approvalId: data.approvalId,
    signedAt: data.signedAt,
    ...(data.dryRun ? { dryRun: true } : {}),
  };
}

export function signCommandJob(signer: Signer, data: CommandJobData, jobId: string, now = Date.now()): CommandJobData {
  const stamped = { ...data, signedAt: now };
  return { ...stamped, sig: signer.sign('job', signedPart(stamped, jobId)) };
}

/** 'ok', 'forged' (no or bad signature: never run) or 'stale' (genuine but older than MAX_JOB_AGE_MS). */
export function verifyCommandJob(signer: Signer, data: CommandJobData, jobId: string, now = Date.now()): 'ok' | 'forged' | 'stale' {
  if (!signer.verify('job', signedPart(data, jobId), data.sig)) return 'forged';
  return typeof data.signedAt === 'number' && now - data.signedAt <= MAX_JOB_AGE_MS ? 'ok' : 'stale';
}

/** A finished job's data without its sealed secrets: what Redis keeps for the job's retention. */
export function withoutSecrets(data: CommandJobData): CommandJobData | undefined {
  if (data.sealedArgs === undefined) return undefined;
  const { sealedArgs: _sealed, ...rest } = data;
  return rest;
}

/** BullMQ ids must not contain ':' nor be all digits; the prefix keeps both true. */
export function jobIdFor(requestId: string): string {
  return `cmd-${requestId}`;
}

/** A stable id for a Slack request: the same request (a retry) maps to the same id. */
export function requestIdFrom(parts: Array<string | undefined>): string {
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u0000'))
    .digest('hex')
    .slice(0, 24);
}

export const COMMAND_JOB_OPTIONS: JobsOptions = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
};

export function createCommandQueue(connection: Redis, prefix?: string): Queue<CommandJobData> {
  return selfHealingQueue(
    connection,
    () =>
      new Queue<CommandJobData>(COMMAND_QUEUE, {
        connection,
        ...(prefix ? { prefix } : {}),
        skipWaitingForReady: true,
        defaultJobOptions: COMMAND_JOB_OPTIONS,
      }),
  );
}

/**
 * Adds the job or fails within `timeoutMs` with a reason the user can read —
 * never half-done: either the job is in Redis, or the user is told it is not.
 */
export async function enqueueCommand(
  queue: Queue<CommandJobData>,
  signer: Signer,
  data: CommandJobData,
  timeoutMs = 2_000,
  jobId = jobIdFor(data.request.requestId),
): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const status = (queue.opts.connection as { status?: string }).status;
    // Down (reconnecting, closed): answer at once. Still connecting (a fresh start, a TLS handshake): wait within the budget.
    if (status === 'reconnecting' || status === 'end' || status === 'close') throw new Error(`Redis connection is ${status}`);
    const job = await Promise.race([
      queue.add(data.verb, signCommandJob(signer, data, jobId), { jobId }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return job.id ?? jobId;
  } catch (err) {
    throw unavailable(
      'Your command was *not* queued: the job queue (Redis) is unreachable right now, so nothing was changed. Try again in a minute; if it persists, tell the ops team.',
      err,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Adds a job that a worker runs after `delayMs` (e.g. deleting a debug copy at
 * its TTL). Delayed jobs live in Redis, so a restart of every process keeps them.
 * The same `jobId` added twice is one job.
 */
export async function scheduleCommand(
  queue: Queue<CommandJobData>,
  signer: Signer,
  data: CommandJobData,
  delayMs: number,
  jobId: string,
): Promise<void> {
  await queue.add(data.verb, signCommandJob(signer, data, jobId), { jobId, delay: Math.max(0, delayMs) });
}
