import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { MeteredWebClient } from '../src/slack/client.js';
import { allowResponseUrlHosts, postToResponseUrl } from '../src/slack/respond.js';
import { actions, section } from '../src/slack/blocks.js';
import { registry } from '../src/server/metrics.js';
import { startSlackEmulator, type SlackEmulator } from './support/slack/index.js';

/** A message Slack refuses as invalid_blocks must not vanish (issue 9 §0). */
let slack: SlackEmulator;
const lines: any[] = [];
const log = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  }),
);

beforeAll(async () => {
  slack = await startSlackEmulator();
  allowResponseUrlHosts(slack.url);
});
afterAll(() => slack.close());
afterEach(() => {
  slack.reset();
  lines.length = 0;
});

/** The alert main used to send: two buttons sharing an action_id. */
const refused = {
  text: ':boom: OOMKilled · deployment api · prod',
  blocks: [
    section(':boom: *OOMKilled* in deployment api (`prod`)'),
    section('*Last log lines:*\n```out of memory```'),
    actions('alert', [
      { text: 'Silence 1h', actionId: 'chatops_alert_silence', value: 'i|1h' },
      { text: 'Silence 24h', actionId: 'chatops_alert_silence', value: 'i|24h' },
    ]),
  ],
};

async function refusedCount(method: string): Promise<number> {
  const m = (await registry.getSingleMetric('chatops_slack_invalid_blocks_total')!.get()).values.find((v) => v.labels['method'] === method);
  return m?.value ?? 0;
}

describe('invalid_blocks fallback', () => {
  it('posts the refused message as plain text, logs Slack’s errors and counts it', async () => {
    const web = new MeteredWebClient('xoxb-t', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }, log);
    const before = await refusedCount('chat.postMessage');
    const res = await web.chat.postMessage({ channel: 'C0ONCALL', ...refused });
    expect(res.ok).toBe(true);
    const [message] = slack.topLevel('C0ONCALL');
    expect(message!.blocks).toBeUndefined();
    expect(message!.text).toContain(':boom: *OOMKilled* in deployment api (`prod`)\n*Last log lines:*\n```out of memory```');
    expect(message!.text).toMatch(/plain text: Slack refused the formatted version/);
    expect(await refusedCount('chat.postMessage')).toBe(before + 1);
    expect(lines.find((l) => l.msg.includes('invalid_blocks'))).toMatchObject({
      level: 50,
      method: 'chat.postMessage',
      slackErrors: ['action_id must be unique within the block [json-pointer:/blocks/2/elements/1/action_id]'],
    });
  });

  it('replaces the blocks of a refused chat.update and answers a refused ephemeral', async () => {
    const web = new MeteredWebClient('xoxb-t', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }, log);
    const posted = await web.chat.postMessage({ channel: 'C0ONCALL', text: 'first', blocks: [section('first')] });
    await web.chat.update({ channel: 'C0ONCALL', ts: posted.ts!, ...refused });
    const m = slack.message('C0ONCALL', posted.ts!)!;
    expect(m.blocks ?? []).toEqual([]);
    expect(m.text).toContain('OOMKilled');
    await web.chat.postEphemeral({ channel: 'C0ONCALL', user: 'U0A', ...refused });
    expect(slack.ephemerals[0]!.text).toContain('OOMKilled');
  });

  it('sends a refused response_url answer again as plain text', async () => {
    const url = slack.newResponseUrl();
    const before = await refusedCount('response_url');
    await postToResponseUrl(url, refused, 'ephemeral', log);
    expect(slack.responses.map((r) => r.body.text)).toEqual([expect.stringContaining('*OOMKilled* in deployment api')]);
    expect(slack.responses[0]!.body.blocks).toBeUndefined();
    expect(await refusedCount('response_url')).toBe(before + 1);
    expect(lines.some((l) => l.method === 'response_url' && l.slackErrors.length === 1)).toBe(true);
  });
});
