import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogLevel } from '@slack/bolt';
import { WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { startSlackEmulator, type SlackEmulator } from './support/slack/index.js';

/** The Slack emulator refuses what Slack refuses, with Slack's error shapes (issue 9 §0). */
const silentLogger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };

let slack: SlackEmulator;
let web: WebClient;
beforeAll(async () => {
  slack = await startSlackEmulator();
  web = new WebClient('xoxb-t', { slackApiUrl: slack.url, logger: silentLogger, retryConfig: { retries: 0 } });
});
afterAll(() => slack.close());
afterEach(() => slack.reset());

async function refusal(p: Promise<unknown>): Promise<WebAPIPlatformError['data'] & { errors?: string[] }> {
  try {
    await p;
  } catch (err) {
    return (err as WebAPIPlatformError).data;
  }
  throw new Error('expected Slack to refuse');
}

const button = (text: string, action_id: string, value = 'v') => ({ type: 'button', text: { type: 'plain_text', text }, action_id, value });
const twoSilences = [
  { type: 'section', text: { type: 'mrkdwn', text: 'OOMKilled' } },
  {
    type: 'actions',
    block_id: 'alert',
    elements: [button('Show logs', 'logs'), button('Silence 1h', 'silence'), button('Silence 24h', 'silence')],
  },
];

describe('Slack emulator refusals', () => {
  it('answers invalid_blocks with a json-pointer per violation on postMessage, update and postEphemeral', async () => {
    const expected = {
      ok: false,
      error: 'invalid_blocks',
      errors: ['action_id must be unique within the block [json-pointer:/blocks/1/elements/2/action_id]'],
    };
    expect(await refusal(web.chat.postMessage({ channel: 'C0ONCALL', text: 'x', blocks: twoSilences }))).toMatchObject(expected);
    const posted = await web.chat.postMessage({ channel: 'C0ONCALL', text: 'x' });
    expect(await refusal(web.chat.update({ channel: 'C0ONCALL', ts: posted.ts!, text: 'x', blocks: twoSilences }))).toMatchObject(expected);
    expect(await refusal(web.chat.postEphemeral({ channel: 'C0ONCALL', user: 'U0A', text: 'x', blocks: twoSilences }))).toMatchObject(
      expected,
    );
    expect(slack.topLevel('C0ONCALL').map((m) => m.blocks)).toEqual([undefined]);
    expect(slack.ephemerals).toEqual([]);
  });

  it('checks the limits Slack lists: blocks, section, fields, header, context, actions, buttons, confirm', async () => {
    const long = (n: number) => 'x'.repeat(n);
    const data = await refusal(
      web.chat.postMessage({
        channel: 'C0ONCALL',
        text: 'x',
        blocks: <any[]>[
          { type: 'section', text: { type: 'mrkdwn', text: long(3_001) } },
          { type: 'section', text: { type: 'mrkdwn', text: '' } },
          { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: long(2_001) })).slice(0, 11) },
          { type: 'header', text: { type: 'plain_text', text: long(151) } },
          { type: 'header', text: { type: 'mrkdwn', text: 'bold' } },
          { type: 'context', elements: [] },
          { type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button('b', `a${i}`)) },
          {
            type: 'actions',
            block_id: long(256),
            elements: [
              { ...button(long(76), long(256), long(2_001)), url: long(3_001), style: 'warning' },
              {
                ...button('ok', 'c'),
                confirm: {
                  title: { type: 'plain_text', text: long(101) },
                  text: { type: 'mrkdwn', text: long(301) },
                  confirm: { type: 'plain_text', text: long(31) },
                  deny: { type: 'plain_text', text: long(31) },
                },
              },
            ],
          },
        ],
      }),
    );
    expect(data.error).toBe('invalid_blocks');
    expect(data.errors).toEqual([
      'must be less than 3001 characters [json-pointer:/blocks/0/text/text]',
      'must be more than 0 characters [json-pointer:/blocks/1/text/text]',
      'no more than 10 items allowed [json-pointer:/blocks/2/fields]',
      ...Array.from({ length: 11 }, (_, i) => `must be less than 2001 characters [json-pointer:/blocks/2/fields/${i}/text]`),
      'must be less than 151 characters [json-pointer:/blocks/3/text/text]',
      'must be a valid enum value [json-pointer:/blocks/4/text/type]',
      'must provide at least one element [json-pointer:/blocks/5/elements]',
      'no more than 25 items allowed [json-pointer:/blocks/6/elements]',
      'must be less than 256 characters [json-pointer:/blocks/7/block_id]',
      'must be less than 256 characters [json-pointer:/blocks/7/elements/0/action_id]',
      'must be less than 76 characters [json-pointer:/blocks/7/elements/0/text/text]',
      'must be less than 2001 characters [json-pointer:/blocks/7/elements/0/value]',
      'must be less than 3001 characters [json-pointer:/blocks/7/elements/0/url]',
      'must be a valid enum value [json-pointer:/blocks/7/elements/0/style]',
      'must be less than 101 characters [json-pointer:/blocks/7/elements/1/confirm/title/text]',
      'must be less than 301 characters [json-pointer:/blocks/7/elements/1/confirm/text/text]',
      'must be less than 31 characters [json-pointer:/blocks/7/elements/1/confirm/confirm/text]',
      'must be less than 31 characters [json-pointer:/blocks/7/elements/1/confirm/deny/text]',
    ]);
    const many = Array.from({ length: 51 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 'x' } }));
    expect((await refusal(web.chat.postMessage({ channel: 'C0ONCALL', text: 'x', blocks: many }))).errors).toEqual([
      'no more than 50 items allowed [json-pointer:/blocks]',
    ]);
  });

  it('answers msg_too_long over 40,000 characters', async () => {
    expect((await refusal(web.chat.postMessage({ channel: 'C0ONCALL', text: 'x'.repeat(40_001) }))).error).toBe('msg_too_long');
    await web.chat.postMessage({ channel: 'C0ONCALL', text: 'x'.repeat(40_000) });
  });

  it('answers user_not_in_channel for an ephemeral to a non-member', async () => {
    slack.setUserNotInChannel('C0ONCALL', 'U0VISITOR');
    expect((await refusal(web.chat.postEphemeral({ channel: 'C0ONCALL', user: 'U0VISITOR', text: 'hi' }))).error).toBe(
      'user_not_in_channel',
    );
    await web.chat.postEphemeral({ channel: 'C0ONCALL', user: 'U0MEMBER', text: 'hi' });
    expect(slack.ephemerals.map((e) => e.user)).toEqual(['U0MEMBER']);
  });

  it('answers cant_update_message for a message the bot did not post', async () => {
    const human = slack.postAsUser('C0ONCALL', 'U0HUMAN', 'deploy please');
    expect((await refusal(web.chat.update({ channel: 'C0ONCALL', ts: human.ts, text: 'edited' }))).error).toBe('cant_update_message');
    expect(slack.message('C0ONCALL', human.ts)!.text).toBe('deploy please');
  });

  it('a response_url refuses invalid blocks, expires after 30 minutes and unknown ones are not found', async () => {
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const url = slack.newResponseUrl();
    const bad = await post(url, { text: 'x', blocks: twoSilences });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({
      error: 'invalid_blocks',
      errors: [expect.stringContaining('[json-pointer:/blocks/1/elements/2/action_id]')],
    });
    expect((await post(url, { text: 'x' })).status).toBe(200);
    slack.advanceClock(30 * 60_000 + 1);
    const late = await post(url, { text: 'late' });
    expect([late.status, ((await late.json()) as { error: string }).error]).toEqual([404, 'expired_url']);
    expect((await post(`${slack.origin}/response/0000`, { text: 'x' })).status).toBe(404);
    expect(slack.responses.map((r) => r.body.text)).toEqual(['x']);
  });

  it('refuses an upload whose bytes do not match the announced length', async () => {
    const { upload_url } = await web.files.getUploadURLExternal({ filename: 'a.log', length: 5 });
    const res = await fetch(upload_url!, { method: 'POST', body: 'longer than five' });
    expect(res.status).toBe(400);
    const files = slack.callsTo('files.getUploadURLExternal')[0]!.response.file_id;
    expect((await refusal(web.files.completeUploadExternal({ files: [{ id: files }], channel_id: 'C0ONCALL' }))).error).toBe(
      'file_not_found',
    );
  });
});
