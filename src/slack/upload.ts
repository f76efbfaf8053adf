import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import { NOT_IN_CHANNEL_ERRORS, slackErrorCode } from './errors.js';

export interface TextFile {
  channelId: string;
  /** Share the file in this thread instead of the channel. */
  threadTs?: string;
  filename: string;
  title: string;
  content: string;
  /** The message that introduces the file. */
  initialComment?: string;
}

export type UploadResult =
  | { ok: true; fileId?: string; permalink?: string }
  /** `notInChannel`: the bot must be invited first; `code` is Slack's error code ("request_failed" when Slack did not answer). */
  | { ok: false; code: string; notInChannel: boolean };

/**
 * Shares a text file in a channel with files upload v2
 * (files.getUploadURLExternal → upload → files.completeUploadExternal).
 * Never throws: the caller decides what to show instead.
 */
export async function uploadTextFile(client: WebClient, file: TextFile, log: Logger): Promise<UploadResult> {
  try {
    const common = {
      channel_id: file.channelId,
      file: Buffer.from(file.content, 'utf8'),
      filename: file.filename,
      title: file.title,
      ...(file.initialComment ? { initial_comment: file.initialComment } : {}),
    };
    const res = await (file.threadTs ? client.filesUploadV2({ ...common, thread_ts: file.threadTs }) : client.filesUploadV2(common));
    const shared = (res.files as Array<{ files?: Array<{ id?: string; permalink?: string }> }> | undefined)?.[0]?.files?.[0];
    return { ok: true, ...(shared?.id ? { fileId: shared.id } : {}), ...(shared?.permalink ? { permalink: shared.permalink } : {}) };
  } catch (err) {
    const code = slackErrorCode(err) ?? 'request_failed';
    log.warn({ err, code, channel: file.channelId }, 'could not upload a file to Slack');
    return { ok: false, code, notInChannel: NOT_IN_CHANNEL_ERRORS.has(code) };
  }
}
