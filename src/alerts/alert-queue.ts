/** The `alerts` BullMQ queue: its jobs (incident, logs, chart) and how each is enqueued (deduplicated, delayed, signed). */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { selfHealingQueue } from '../queue/self-healing-queue.js';
import type { Signer } from '../security/signing.js';
import type { ChartJob } from './chart.js';

export const ALERT_QUEUE = 'alerts';

export type AlertJob =
  | { type: 'incident'; id: string }
  /** Show logs: the last lines of the incident's latest pod, to the clicker only. */
  | {
      type: 'logs';
      id: string;
      userId: string;
      channelId: string;
      threadTs?: string;
      /** The click's response_url: the answer's way to a clicker who is not a member of the channel (no ephemeral then). */
      responseUrl?: string;
      sig?: string;
    }
  /** The memory chart of an OOMKilled incident, in its thread (chart.ts). */
  | ChartJob;

export function createAlertQueue(connection: Redis, prefix?: string): Queue<AlertJob> {
  return selfHealingQueue(
    connection,
    () =>
      new Queue<AlertJob>(ALERT_QUEUE, {
        connection,
        ...(prefix ? { prefix } : {}),
        skipWaitingForReady: true,
        defaultJobOptions: {
          attempts: 8,
          backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * 24 * 3600, count: 1_000 },
        },
      }),
  );
}

/**
 * Asks for the incident's Slack message to catch up with its state. A job
 * already waiting absorbs this one; one running gets a single follow-up.
 * New incidents go first (priority 1).
 */
export async function enqueueIncident(queue: Queue<AlertJob>, id: string, isNew: boolean): Promise<void> {
  await queue.add(
    'incident',
    { type: 'incident', id },
    { deduplication: { id: `inc-${id}`, keepLastIfActive: true }, priority: isNew ? 1 : 2 },
  );
}

/**
 * When a silence ends, the headline drops its "silenced until": a job delayed to
 * just after the expiry (its own id, so it never holds back the incident's other jobs).
 */
export async function enqueueSilenceEnd(queue: Queue<AlertJob>, id: string, until: number, now: number): Promise<void> {
  await queue.add(
    'incident',
    { type: 'incident', id },
    { delay: Math.max(0, until - now) + 250, jobId: `silence-end-${id}-${until}`, priority: 2 },
  );
}

const sharedQueues = new WeakMap<Redis, Queue<AlertJob>>();

/** The `alerts` queue on a producer connection, made once per connection (for verbs that nudge delivery). */
export function alertQueueOn(connection: Redis, prefix: string): Queue<AlertJob> {
  let queue = sharedQueues.get(connection);
  if (!queue) {
    queue = createAlertQueue(connection, prefix);
    sharedQueues.set(connection, queue);
  }
  return queue;
}

/** Show logs sends a pod's logs to whoever the job names: signed, so only a real click can ask for it. */
export async function enqueueShowLogs(queue: Queue<AlertJob>, signer: Signer, data: Extract<AlertJob, { type: 'logs' }>): Promise<void> {
  const { sig: _sig, ...unsigned } = data;
  await queue.add('logs', { ...unsigned, sig: signer.sign('alert-job', unsigned) }, { priority: 1, attempts: 2 });
}
