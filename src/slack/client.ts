import { WebClient, WebClientEvent, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import { slackApiErrorsTotal } from '../server/metrics.js';
import { slackErrorCode } from './errors.js';

/** A WebClient that counts failed calls and 429s by method, for /metrics. */
export class MeteredWebClient extends WebClient {
  constructor(token: string, options: WebClientOptions) {
    super(token, options);
    this.on(WebClientEvent.RATE_LIMITED, (_retryAfter: number, { url }: { url: string }) => {
      slackApiErrorsTotal.inc({ method: url.split('/').pop() ?? 'unknown', error: 'ratelimited' });
    });
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (err) {
      slackApiErrorsTotal.inc({ method, error: slackErrorCode(err) ?? 'request_failed' });
      throw err;
    }
  }
}
