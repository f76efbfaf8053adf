import { WebClient, WebClientEvent, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../log.js';
import { slackApiErrorsTotal } from '../server/metrics.js';
import type { Block } from './blocks.js';
import { slackErrorCode } from './errors.js';
import { plainTextFallback, reportInvalidBlocks, slackErrors } from './fallback.js';

/** Methods whose refused blocks are sent again as plain text. */
const MESSAGE_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral']);

/**
 * The WebClient every Slack post goes through. It counts failed calls and
 * 429s by method, for /metrics; and a message Slack refuses as
 * `invalid_blocks` is logged with Slack's errors, counted, and sent again as
 * plain text instead of vanishing.
 */
export class MeteredWebClient extends WebClient {
  private readonly log: Logger | undefined;

  constructor(token: string, options: WebClientOptions, log?: Logger) {
    super(token, options);
    this.log = log;
    this.on(WebClientEvent.RATE_LIMITED, (_retryAfter: number, { url }: { url: string }) => {
      slackApiErrorsTotal.inc({ method: url.split('/').pop() ?? 'unknown', error: 'ratelimited' });
    });
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (err) {
      const code = slackErrorCode(err) ?? 'request_failed';
      slackApiErrorsTotal.inc({ method, error: code });
      const blocks = options?.['blocks'];
      if (code !== 'invalid_blocks' || !MESSAGE_METHODS.has(method) || !Array.isArray(blocks) || blocks.length === 0) throw err;
      reportInvalidBlocks(method, slackErrors(err), this.log, { channel: options?.['channel'] });
      const text = plainTextFallback({
        ...(typeof options?.['text'] === 'string' ? { text: options['text'] } : {}),
        blocks: blocks as Block[],
      });
      // chat.update keeps the old blocks unless told otherwise: [] clears them.
      const { blocks: _refused, ...rest } = options ?? {};
      return super.apiCall(method, { ...rest, text, ...(method === 'chat.update' ? { blocks: [] } : {}) });
    }
  }
}
