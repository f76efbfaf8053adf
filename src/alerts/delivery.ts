/**
 * Delivery: the `alerts` BullMQ queue brings each incident's Slack message in
 * line with its state in Redis. One job per incident at a time (deduplicated,
 * the latest kept while one runs), so a storm of occurrences becomes a few
 * calls: the top-level message, count updates (chat.update) and thread replies
 * that each summarise everything new. Posting takes a token from the channel's
 * bucket; a job that must wait is parked (delayed), never dropped; Slack's
 * 429 Retry-After blocks the bucket for as long as Slack asks.
 */
import { DelayedError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import type { ClusterClient } from '../kube/clusters.js';
import { readLogTail } from '../kube/diagnose.js';
import type { Logger } from '../log.js';
import { slackApiErrorsTotal } from '../server/metrics.js';
import type { SlackMessage } from '../slack/blocks.js';
import { slackErrorCode } from '../slack/errors.js';
import { postToResponseUrl } from '../slack/respond.js';
import type { IntentStore } from '../command/intents.js';
import { TamperedRecordError, type Signer } from '../security/signing.js';
import { reportTampered } from '../security/tampered.js';
import type { AuditLog } from '../audit/index.js';
import { onlyCountChanged, renderKey, storedFix, type IncidentState, type IncidentStore } from './incidents.js';
import type { Config } from '../config/schema.js';
import { proposeFix } from './fixes.js';
import { readFixInputs } from './fix-inputs.js';
import {
  headlineMessage,
  logsMessage,
  occurrencesReply,
  recoveredReply,
  reopenedReply,
  silencedReply,
  unsilencedReply,
  LISTED_PER_REPLY,
} from './messages.js';
import { ALERT_QUEUE, enqueueIncident, type AlertJob } from './alert-queue.js';
import { enqueueChart, FILE_UPLOAD_LIMIT, postIncidentChart, wantsChart, type ChartDeps } from './chart.js';
import { CHANNEL_POST_LIMIT, slackRetryAfterMs, UPDATE_LIMIT, type RateLimit, type RateLimiter } from './ratelimit.js';

/** Why chat.postEphemeral refuses to reach a clicker that a response_url still reaches. */
const EPHEMERAL_REFUSED = new Set(['user_not_in_channel', 'channel_not_found', 'not_in_channel']);

export interface DeliveryDeps {
  /** Producer side of the queue (follow-up jobs). */
  queue: Queue<AlertJob>;
  /** Blocking connection for the worker. */
  connection: Redis;
  /** Connection errors go here when set (the process-wide Redis outage summary), else to the log. */
  onConnectionError?: (err: Error) => void;
  prefix?: string;
  store: IncidentStore;
  limiter: RateLimiter;
  /** A client that rejects rate-limited calls instead of pausing (we wait per channel). */
  slack: WebClient;
  intents: IntentStore;
  /** Verifies Show-logs jobs; a forged one is refused and audited. */
  signer: Signer;
  audit: AuditLog;
  /** The cluster an incident's pods are in, by cluster name. */
  cluster(name: string): ClusterClient | undefined;
  log: Logger;
  limits?: { channel?: RateLimit; update?: RateLimit };
  now?: () => number;
  /** A headline whose count alone changed is updated at most this often (default 3 s). */
  minUpdateIntervalMs?: number;
  /** Lines for Show logs (default 20). */
  logLines?: number;
  /** The bot's config: the apps and bounds an alert's fix (Raise memory limit, Lower request) is worked out from. None: no fix offered. */
  config?: Config;
  /**
   * The highest memory (bytes) the OOMKilled incident's container was seen using, when
   * something measured it; the raise is worked out from it and the limit (startAlerts
   * passes the charts' observedPeak when charts are on).
   */
  observedPeak?: (incident: IncidentState) => Promise<number | undefined>;
  concurrency?: number;
  /** Where OOMKilled charts get their data; absent = no charts. */
  charts?: Pick<ChartDeps, 'samples' | 'prometheus'>;
}

export interface RunningDelivery {
  worker: Worker<AlertJob>;
  close(): Promise<void>;
}

/** Parks the job until `ms` from now: it runs again then, keeping its place as the incident's one job. */
class Wait extends Error {
  constructor(readonly ms: number) {
    super(`wait ${ms} ms`);
  }
}

/** Steps (Slack calls) one job run makes before handing over to a follow-up job. */
const STEPS_PER_RUN = 8;
const INTENT_TTL_MS = 7 * 86_400_000;

export function startDelivery(deps: DeliveryDeps): RunningDelivery {
  const now = deps.now ?? Date.now;
  const peakOf = deps.observedPeak;
  const channelLimit = deps.limits?.channel ?? CHANNEL_POST_LIMIT;
  const updateLimit = deps.limits?.update ?? UPDATE_LIMIT;
  const minUpdateIntervalMs = deps.minUpdateIntervalMs ?? 3_000;
  const log = deps.log;

  /** A Slack call behind a token; 429 blocks the bucket for Retry-After and parks the job. */
  async function call<T>(bucket: string, limit: RateLimit, method: string, fn: () => Promise<T>, yieldTo?: string): Promise<T> {
    const wait = await deps.limiter.take(bucket, limit, yieldTo);
    if (wait > 0) throw new Wait(wait);
    try {
      return await fn();
    } catch (err) {
      const retryAfter = slackRetryAfterMs(err);
      slackApiErrorsTotal.inc({ method, error: retryAfter !== undefined ? 'ratelimited' : (slackErrorCode(err) ?? 'error') });
      if (retryAfter === undefined) throw err;
      log.warn({ method, bucket, retryAfterMs: retryAfter }, 'Slack rate-limited an alert; waiting as asked');
      await deps.limiter.block(bucket, retryAfter);
      throw new Wait(retryAfter);
    }
  }
  const post = (s: IncidentState, message: SlackMessage, opts: { threadTs?: string; first?: boolean } = {}) =>
    call(
      `post:${s.channel}`,
      channelLimit,
      'chat.postMessage',
      () =>
        deps.slack.chat.postMessage({
          channel: s.channel,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
          unfurl_links: false,
          unfurl_media: false,
        }),
      // Thread replies leave the channel's tokens to new incidents' first messages.
      opts.first ? undefined : deps.store.waitersKey(s.channel),
    );

  /**
   * One step towards what the state asks for: the first action whose bucket
   * has a token (a thread reply waiting for the channel does not hold up a
   * count update). False when the message is up to date; Wait when every
   * remaining action must wait.
   */
  async function step(id: string): Promise<boolean> {
    const s = await deps.store.load(id);
    if (!s) return false;
    const t = now();
    const silenced = s.silence !== undefined && s.silence.until > t;
    if (!s.ts) {
      if (silenced) {
        // Silenced (by a button on an earlier message of this incident) before this one went out.
        await deps.store.update(id, s.gen, { threaded: s.count, recoveredNoted: s.status === 'recovered' ? 1 : 0 });
        await deps.store.firstPostDone(s.channel, id);
        return false;
      }
      // Every incident gets its message, even one that recovered while it waited for the channel's turn.
      const res = await post(s, headlineMessage(s, t), { first: true });
      await deps.store.update(id, s.gen, { ts: String(res.ts), shown: renderKey(s, t), updatedAt: t });
      await deps.store.firstPostDone(s.channel, id);
      // The chart follows in the thread, from its own job: it never holds up an alert.
      if (deps.charts && wantsChart(s))
        await enqueueChart(deps.queue, id, s.gen).catch((err: unknown) => log.warn({ incident: id, err }, 'could not ask for a chart'));
      return true;
    }
    const ts = s.ts;
    if (!s.restartIntent && s.status === 'open' && s.workload.kind === 'Deployment') {
      // The button runs `restart` as the clicker, through policy and approvals, reporting in this thread.
      const intent = await deps.intents.create(
        { text: `restart ${s.workload.name} ${s.env}`, channelId: s.channel, threadTs: ts },
        INTENT_TTL_MS,
      );
      await deps.store.update(id, s.gen, { intent });
      s.restartIntent = intent;
    }
    if (deps.config && s.status === 'open' && s.fixFor?.count !== s.count) await offerFix(deps.config, s, ts);
    // Rendered after the fix is worked out: a new fix (Raise memory limit) changes the headline too.
    const key = renderKey(s, t);
    const countOnly = Boolean(s.shown && onlyCountChanged(s.shown, key));
    // A new status (Recovered, reopened, silenced) goes before any count: from now on, count-only updates yield the token to it.
    if (key !== s.shown && !countOnly) await deps.store.statusUpdateWaiting(id, t);
    // Thread replies in order (silence note, occurrences, recovery), then the headline.
    const threadAction = (): (() => Promise<void>) | undefined => {
      if (s.reopenedAt !== undefined) {
        const at = s.reopenedAt;
        return async () => {
          if (!silenced) await post(s, reopenedReply(s, at), { threadTs: ts });
          await deps.store.clearField(id, 'reopened');
        };
      }
      if (s.silenceNote) {
        const note = s.silenceNote;
        return async () => {
          await post(s, silencedReply(note.choice, note.until, note.by, note), { threadTs: ts });
          await deps.store.clearField(id, 'silenceNote');
        };
      }
      if (s.liftNote) {
        const note = s.liftNote;
        return async () => {
          await post(s, unsilencedReply(note.by, note.id), { threadTs: ts });
          await deps.store.clearField(id, 'liftNote');
        };
      }
      if (s.count > s.threaded) {
        if (silenced) return () => deps.store.update(id, s.gen, { threaded: s.count }).then(() => undefined);
        return async () => {
          const pending = await deps.store.pending(s, LISTED_PER_REPLY);
          await post(s, occurrencesReply(s, pending.occurrences, pending.hidden), { threadTs: ts });
          await deps.store.update(id, s.gen, { threaded: pending.upTo });
        };
      }
      if (s.status === 'recovered' && !s.recoveredNoted) {
        return async () => {
          await post(s, recoveredReply(s, s.healthyForMs ?? 0), { threadTs: ts });
          await deps.store.update(id, s.gen, { recoveredNoted: 1 });
        };
      }
      return undefined;
    };
    const headlineAction = (): (() => Promise<void>) | undefined => {
      if (key === s.shown) return undefined;
      // Count-only changes are paced per incident, so a storm shares chat.update's budget fairly.
      const early = countOnly ? s.updatedAt + minUpdateIntervalMs - t : 0;
      if (early > 0) return () => Promise.reject(new Wait(early));
      return async () => {
        const message = headlineMessage(s, t);
        try {
          await call(
            'update',
            updateLimit,
            'chat.update',
            () => deps.slack.chat.update({ channel: s.channel, ts, text: message.text, blocks: message.blocks ?? [] }),
            countOnly ? deps.store.statusUpdatesKey : undefined,
          );
        } catch (err) {
          if (slackErrorCode(err) !== 'message_not_found') throw err;
          // Someone deleted the message: post it again rather than lose the incident.
          log.warn({ incident: id }, 'alert message was deleted; posting it again');
          await deps.store.update(id, s.gen, { ts: '', shown: '' });
          await deps.store.statusUpdateDone(id);
          return;
        }
        if (!countOnly) await deps.store.statusUpdateDone(id);
        await deps.store.update(id, s.gen, { shown: key, updatedAt: t });
      };
    };
    let wait: number | undefined;
    for (const action of [threadAction(), headlineAction()]) {
      if (!action) continue;
      try {
        await action();
        return true;
      } catch (err) {
        if (!(err instanceof Wait)) throw err;
        wait = Math.min(wait ?? err.ms, err.ms);
      }
    }
    if (wait !== undefined) throw new Wait(wait);
    return false;
  }

  /**
   * Works out the fix for the latest occurrence (again when the count moved); a new
   * proposal gets a new button intent (`resources …` as the clicker, in this thread).
   */
  async function offerFix(config: Config, s: IncidentState, ts: string): Promise<void> {
    const latest = (s.last ?? s.head).diagnosis;
    const inputs = await readFixInputs({ config, cluster: deps.cluster(s.cluster), ...(peakOf ? { observedPeak: peakOf } : {}), log }, s);
    const fix = proposeFix(config, s, latest, inputs);
    const key = fix ? `${fix.note}|${fix.button?.command ?? ''}` : '';
    let stored = s.fix && { note: s.fix.note, ...(s.fix.button ? { text: s.fix.button.text, intent: s.fix.button.intent } : {}) };
    if (s.fixFor?.key !== key) {
      const intent = fix?.button
        ? await deps.intents.create({ text: fix.button.command, channelId: s.channel, threadTs: ts }, INTENT_TTL_MS)
        : undefined;
      stored = fix && { note: fix.note, ...(fix.button && intent ? { text: fix.button.text, intent } : {}) };
    }
    await deps.store.update(s.id, s.gen, { fix: storedFix(s.count, key, stored) });
    s.fixFor = { count: s.count, key };
    if (stored)
      s.fix = { note: stored.note, ...(stored.text && stored.intent ? { button: { text: stored.text, intent: stored.intent } } : {}) };
    else delete s.fix;
  }

  async function showLogs(data: Extract<AlertJob, { type: 'logs' }>): Promise<void> {
    const s = await deps.store.load(data.id);
    const occ = s?.last ?? s?.head;
    const cluster = s && deps.cluster(s.cluster);
    let message: SlackMessage;
    if (!s || !occ || !cluster) {
      message = { text: ':hourglass: This alert is no longer known; use `/k8s logs` instead.' };
    } else {
      const lines = deps.logLines ?? 20;
      // The killed or crashed instance first; the running one if there is no previous instance.
      let previous = s.kind === 'OOMKilled' || s.kind === 'CrashLoopBackOff';
      let tail = await readLogTail(cluster, s.namespace, occ.pod, occ.container, lines, previous);
      if (!tail && previous) {
        previous = false;
        tail = await readLogTail(cluster, s.namespace, occ.pod, occ.container, lines, false);
      }
      message = logsMessage(occ.pod, occ.container, tail, previous);
    }
    try {
      await deps.slack.chat.postEphemeral({
        channel: data.channelId,
        user: data.userId,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(data.threadTs ? { thread_ts: data.threadTs } : {}),
      });
    } catch (err) {
      // Slack gives no ephemeral to a non-member (or where the bot is not): the click's response_url reaches the clicker anyway.
      if (!data.responseUrl || !EPHEMERAL_REFUSED.has(slackErrorCode(err) ?? '')) throw err;
      await postToResponseUrl(data.responseUrl, message, 'ephemeral', log);
    }
  }

  const worker = new Worker<AlertJob>(
    ALERT_QUEUE,
    async (job: Job<AlertJob>, token?: string) => {
      if (job.data.type === 'logs') {
        const { sig, ...unsigned } = job.data;
        if (!deps.signer.verify('alert-job', unsigned, sig)) {
          await reportTampered({ audit: deps.audit, log }, new TamperedRecordError('alert-job', job.id ?? ''), {
            verb: 'logs',
            userId: String(unsigned.userId),
            channelId: String(unsigned.channelId),
          });
          return;
        }
        return showLogs(job.data);
      }
      if (job.data.type === 'chart') {
        const chartDeps: ChartDeps = {
          ...deps.charts,
          store: deps.store,
          cluster: (name) => deps.cluster(name),
          slack: deps.slack,
          // A note is a post in the channel; an upload has its own (Tier 4) budget. Both yield to new alerts' first posts.
          send: (channel, method, fn) =>
            method === 'chat.postMessage'
              ? call(`post:${channel}`, channelLimit, method, fn, deps.store.waitersKey(channel))
              : call('files', FILE_UPLOAD_LIMIT, method, fn, deps.store.waitersKey(channel)),
          log,
          now,
        };
        try {
          await postIncidentChart(chartDeps, job.data);
        } catch (err) {
          if (err instanceof Wait) {
            await job.moveToDelayed(Date.now() + err.ms, token);
            throw new DelayedError();
          }
          log.warn({ incident: job.data.id, err }, 'could not post the chart; the alert stands without it');
        }
        return;
      }
      const id = job.data.id;
      try {
        for (let i = 0; i < STEPS_PER_RUN; i++) if (!(await step(id))) return;
        // More to do than one run makes: a follow-up job continues (this one is still active, so it is kept).
        await enqueueIncident(deps.queue, id, false);
      } catch (err) {
        if (!(err instanceof Wait)) throw err;
        await job.moveToDelayed(Date.now() + err.ms, token);
        throw new DelayedError();
      }
    },
    { connection: deps.connection, ...(deps.prefix ? { prefix: deps.prefix } : {}), concurrency: deps.concurrency ?? 8 },
  );
  worker.on('error', deps.onConnectionError ?? ((err) => log.warn({ err }, 'alert delivery connection error')));
  worker.on('failed', (job, err) => {
    if (err instanceof DelayedError || err.name === 'DelayedError') return;
    log.warn(
      { job: job?.id, incident: job?.data.id, attempts: job?.attemptsMade, err },
      'alert delivery failed; BullMQ retries it with backoff',
    );
  });
  return {
    worker,
    async close() {
      const closing = worker.close();
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    },
  };
}
