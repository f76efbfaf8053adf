import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import { context, section, type SlackMessage } from './blocks.js';
import { NOT_IN_CHANNEL_ERRORS, inviteHint, slackErrorCode } from './errors.js';
import { postToResponseUrl } from './respond.js';

/** The running story of one job: a top-level message and replies in its thread. */
export interface Progress {
  readonly threadTs: string | undefined;
  start(message: SlackMessage): Promise<void>;
  step(text: string): Promise<void>;
  finish(outcome: 'succeeded' | 'failed', headline: SlackMessage, details?: SlackMessage): Promise<void>;
}

export interface ThreadProgressOptions {
  client: WebClient;
  channelId: string;
  responseUrl?: string;
  /** Thread of an earlier attempt of this job (retry or worker crash): reused, never duplicated. */
  threadTs?: string;
  /** Report inside this existing thread (the job came from a button in it) instead of starting one. */
  parentThreadTs?: string;
  /** Persist the thread ts (in the job's data) as soon as it exists. */
  onThreadStarted(ts: string): Promise<void>;
  log: Logger;
}

export class ThreadProgress implements Progress {
  private ts: string | undefined;
  private lastStep: string | undefined;
  /** The bot cannot post in the channel: report through response_url instead. */
  private viaResponseUrl = false;

  constructor(private readonly opts: ThreadProgressOptions) {
    this.ts = opts.threadTs;
  }

  get threadTs(): string | undefined {
    return this.ts;
  }

  /** Where replies go: our own thread, or the parent thread our headline sits in. */
  private get thread(): string | undefined {
    return this.opts.parentThreadTs ?? this.ts;
  }

  async start(message: SlackMessage): Promise<void> {
    if (this.ts) {
      await this.step(`:arrow_forward: ${message.text}`);
      return;
    }
    try {
      const res = await this.opts.client.chat.postMessage({
        channel: this.opts.channelId,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(this.opts.parentThreadTs ? { thread_ts: this.opts.parentThreadTs } : {}),
      });
      this.ts = res.ts;
      if (this.ts) await this.opts.onThreadStarted(this.ts);
    } catch (err) {
      await this.fallBack(err, message);
    }
  }

  async step(text: string): Promise<void> {
    if (text === this.lastStep) return;
    this.lastStep = text;
    if (this.viaResponseUrl || !this.ts) return; // response_url allows few posts: keep them for start and finish
    try {
      await this.opts.client.chat.postMessage({ channel: this.opts.channelId, thread_ts: this.thread, text });
    } catch (err) {
      this.opts.log.warn({ err, channel: this.opts.channelId }, 'could not post a progress step');
    }
  }

  async finish(_outcome: 'succeeded' | 'failed', headline: SlackMessage, details?: SlackMessage): Promise<void> {
    if (this.viaResponseUrl || !this.ts) {
      if (this.opts.responseUrl) {
        await postToResponseUrl(
          this.opts.responseUrl,
          details
            ? {
                text: `${headline.text}\n${details.text}`,
                blocks: [...(headline.blocks ?? [section(headline.text)]), ...(details.blocks ?? [section(details.text)])],
              }
            : headline,
          'ephemeral',
          this.opts.log,
        );
      }
      return;
    }
    // The explanation goes in the thread first, so whoever sees the ✅/❌ finds the why already there.
    if (details) {
      await this.opts.client.chat.postMessage({
        channel: this.opts.channelId,
        thread_ts: this.thread,
        text: details.text,
        ...(details.blocks ? { blocks: details.blocks } : {}),
      });
    }
    await this.opts.client.chat.update({
      channel: this.opts.channelId,
      ts: this.ts,
      text: headline.text,
      blocks: headline.blocks ?? [section(headline.text)],
    });
  }

  private async fallBack(err: unknown, message: SlackMessage): Promise<void> {
    const code = slackErrorCode(err);
    if (!code || !NOT_IN_CHANNEL_ERRORS.has(code) || !this.opts.responseUrl) throw err;
    this.viaResponseUrl = true;
    this.opts.log.warn({ channel: this.opts.channelId, code }, 'bot is not in the channel; reporting through response_url');
    await postToResponseUrl(
      this.opts.responseUrl,
      {
        text: `${inviteHint(this.opts.channelId)}\n${message.text}`,
        blocks: [
          section(inviteHint(this.opts.channelId)),
          ...(message.blocks ?? [section(message.text)]),
          context('Progress will follow here when the job ends.'),
        ],
      },
      'ephemeral',
      this.opts.log,
    );
  }
}
