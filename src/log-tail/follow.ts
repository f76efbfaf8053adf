/**
 * `logs --follow` in a Slack thread: a headline with Stop, one tail message updated
 * at most once a second, and a file with everything at the end. A tail holds a worker
 * slot for its whole time, so only a few run at once across all workers.
 */
import type { WorkerVerbContext } from '../command/types.js';
import { RUN_INTENT_ACTION } from '../command/intents.js';
import { unavailable } from '../errors/index.js';
import { mention } from '../slack/blocks.js';
import { uploadTextFile } from '../slack/upload.js';
import { tailBody, tailEndedMessage, tailRunningMessage, type TailHeadline } from '../slack/views/log-tail.js';
import { runLogTail, type TailOptions } from './session.js';

/** Live tails running at once, across every worker (each holds a worker slot). */
export const MAX_LIVE_TAILS = 3;
export const DEFAULT_FOLLOW_MS = 60_000;
export const MAX_FOLLOW_MS = 10 * 60_000;

const activeKey = (prefix: string) => `${prefix}:chatops:logtail:active`;
const sessionKey = (prefix: string, id: string) => `${prefix}:chatops:logtail:session:${id}`;
const stopKey = (prefix: string, id: string) => `${prefix}:chatops:logtail:stop:${id}`;

type Services = WorkerVerbContext<unknown>['services'];

/** Asks a running tail to stop (it sees it within a second). Only from the channel it runs in. */
export async function requestTailStop(services: Services, id: string, channelId: string): Promise<'stopping' | 'unknown' | 'elsewhere'> {
  const channel = await services.redis.get(sessionKey(services.prefix, id));
  if (!channel) return 'unknown';
  if (channel !== channelId) return 'elsewhere';
  await services.redis.set(stopKey(services.prefix, id), '1', 'PX', MAX_FOLLOW_MS);
  return 'stopping';
}

/** Takes one of the MAX_LIVE_TAILS places, or says why not. Entries expire with their deadline, so a crashed worker frees its place. */
async function claimPlace(services: Services, id: string, untilMs: number): Promise<void> {
  const key = activeKey(services.prefix);
  const now = Date.now();
  await services.redis.zremrangebyscore(key, '-inf', now);
  const running = await services.redis.zcard(key);
  if (running >= MAX_LIVE_TAILS) {
    throw unavailable(
      `${running} live tails are running already (at most ${MAX_LIVE_TAILS} at once: each holds a worker). Try again when one ends, or read recent lines without \`--follow\`.`,
    );
  }
  await services.redis.zadd(key, untilMs, id);
  await services.redis.pexpire(key, MAX_FOLLOW_MS * 2);
}

/** What to follow (as the tail session takes it) and how the thread names it. */
export interface FollowRequest extends Pick<
  TailOptions,
  'cluster' | 'namespace' | 'listPods' | 'pod' | 'container' | 'match' | 'durationMs'
> {
  app: string;
  env: string;
  /** How the search reads in the headline, e.g. "containing `timeout`, " (already escaped). */
  search: string;
  /** durationMs as the headline shows it (`5m`). */
  duration: string;
}

export async function followLogs(ctx: WorkerVerbContext<unknown>, f: FollowRequest): Promise<void> {
  const { services } = ctx;
  const id = ctx.request.requestId;
  const until = Date.now() + f.durationMs + 60_000;
  await claimPlace(services, id, until);
  await services.redis.set(sessionKey(services.prefix, id), ctx.request.channelId, 'PX', f.durationMs + 60_000);
  const headline: TailHeadline = { app: f.app, env: f.env, userId: ctx.request.userId, duration: f.duration, search: f.search };
  try {
    const stopIntent = await services.intents.create(
      {
        text: `logs ${f.app} ${f.env} --stop ${id}`,
        channelId: ctx.request.channelId,
        ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}),
      },
      f.durationMs + 60_000,
    );
    await ctx.progress.start(tailRunningMessage(headline, { actionId: RUN_INTENT_ACTION, value: stopIntent }));
    // Asked from inside a thread, the headline sits in that thread: the tail goes there too.
    const thread = ctx.request.threadTs ?? ctx.progress.threadTs;
    let tailTs: string | undefined;
    const showTail = async (lines: readonly string[], counts: { total: number; pods: number }) => {
      if (!thread) return; // no thread (the bot is not in the channel): the end comes through response_url
      const message = tailBody(lines, counts, new Date());
      if (tailTs) {
        await services.slack.chat.update({ channel: ctx.request.channelId, ts: tailTs, text: message.text, blocks: message.blocks ?? [] });
      } else {
        const posted = await services.slack.chat.postMessage({
          channel: ctx.request.channelId,
          thread_ts: thread,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
        });
        tailTs = posted.ts;
      }
    };

    const { end, snapshot } = await runLogTail({
      cluster: f.cluster,
      namespace: f.namespace,
      listPods: f.listPods,
      ...(f.pod ? { pod: f.pod } : {}),
      ...(f.container ? { container: f.container } : {}),
      ...(f.match ? { match: f.match } : {}),
      durationMs: f.durationMs,
      shouldStop: async () => (await services.redis.exists(stopKey(services.prefix, id))) === 1,
      signal: ctx.signal,
      onUpdate: (s) => showTail(s.lines, { total: s.total, pods: s.pods.length }),
      log: ctx.log,
    });
    const counts = { total: snapshot.total, pods: snapshot.pods.length, dropped: snapshot.dropped };
    await showTail(snapshot.lines, counts).catch((err: unknown) => ctx.log.warn({ err }, 'live tail: could not update the message'));
    if (snapshot.lines.length > 0 && thread) {
      const uploaded = await uploadTextFile(
        services.slack,
        {
          channelId: ctx.request.channelId,
          threadTs: thread,
          filename: `logs-${f.app}-${f.env}-follow.txt`,
          title: `Live tail of ${f.app} in ${f.env}`,
          content: `${snapshot.lines.join('\n')}\n`,
          initialComment: `:page_facing_up: Everything the live tail saw, for ${mention(ctx.request.userId)}`,
        },
        ctx.log,
      );
      if (!uploaded.ok) ctx.log.warn({ code: uploaded.code }, 'live tail: could not upload the file');
    }
    await ctx.progress.finish('succeeded', tailEndedMessage(headline, end, counts));
  } finally {
    // Left behind, these expire with the tail's deadline; a failure here only costs a place for a minute.
    await Promise.all([
      services.redis.zrem(activeKey(services.prefix), id),
      services.redis.del(sessionKey(services.prefix, id), stopKey(services.prefix, id)),
    ]).catch((err: unknown) => ctx.log.warn({ err }, 'live tail: could not clear its Redis keys'));
  }
}
