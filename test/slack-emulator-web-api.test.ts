import { describe, expect, it } from 'vitest';
import { ErrorCode, WebClient, WebClientEvent, type WebAPIPlatformError } from '@slack/web-api';
import { APP_TOKEN, BOT_TOKEN, silentLogger, slack, useSlackEmulator } from './slack-emulator-fixtures.js';

useSlackEmulator();

function client(opts: ConstructorParameters<typeof WebClient>[1] = {}): WebClient {
  return new WebClient(BOT_TOKEN, { slackApiUrl: slack.url, logger: silentLogger, ...opts });
}

async function slackError(p: Promise<unknown>): Promise<WebAPIPlatformError> {
  try {
    await p;
  } catch (err) {
    return err as WebAPIPlatformError;
  }
  throw new Error('expected the call to fail');
}

describe('Web API emulator with a real WebClient', () => {
  it('answers auth.test and records the token WebClient sends in the Authorization header', async () => {
    const res = await client().auth.test();
    expect(res).toMatchObject({ ok: true, user_id: slack.botUserId, bot_id: slack.botId, team_id: slack.teamId });
    expect(slack.callsTo('auth.test')[0]).toMatchObject({ token: BOT_TOKEN, ok: true, status: 200 });
  });

  it('posts, threads and updates messages, keeping the latest state', async () => {
    const web = client();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploying* myapp' } }];
    const parent = await web.chat.postMessage({ channel: 'C0DEV', text: 'Deploying myapp', blocks });
    expect(parent.ok).toBe(true);
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(parent.message?.text).toBe('Deploying myapp');

    const r1 = await web.chat.postMessage({ channel: 'C0DEV', thread_ts: parent.ts!, text: 'step 1' });
    const r2 = await web.chat.postMessage({ channel: 'C0DEV', thread_ts: parent.ts!, text: 'step 2' });
    expect(r1.message?.thread_ts).toBe(parent.ts);
    expect(Number(r2.ts)).toBeGreaterThan(Number(r1.ts));

    await web.chat.update({ channel: 'C0DEV', ts: parent.ts!, text: 'Deployed myapp', blocks: [] });

    // args are parsed: `blocks` arrives as a JSON form field and is recorded as an array
    expect(slack.callsTo('chat.postMessage')[0]!.args['blocks']).toEqual(blocks);
    const msg = slack.message('C0DEV', parent.ts!);
    expect(msg).toMatchObject({ text: 'Deployed myapp', blocks: [], thread_ts: parent.ts });
    expect(msg!.versions.map((v) => v.text)).toEqual(['Deploying myapp', 'Deployed myapp']);
    expect(slack.thread('C0DEV', parent.ts!).map((m) => m.text)).toEqual(['step 1', 'step 2']);
    expect(slack.topLevel('C0DEV').map((m) => m.ts)).toEqual([parent.ts]);

    const replies = await web.conversations.replies({ channel: 'C0DEV', ts: parent.ts! });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Deployed myapp', 'step 1', 'step 2']);

    const err = await slackError(web.chat.update({ channel: 'C0DEV', ts: '1.000001', text: 'x' }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data.error).toBe('message_not_found');
  });

  it('answers not_in_channel, channel_not_found and conversations.info membership', async () => {
    const web = client();
    slack.setBotNotInChannel('C0PRIVATE');
    expect((await slackError(web.chat.postMessage({ channel: 'C0PRIVATE', text: 'hi' }))).data.error).toBe('not_in_channel');
    expect((await slackError(web.chat.postMessage({ channel: 'C404NOPE', text: 'hi' }))).data.error).toBe('channel_not_found');
    expect((await web.conversations.info({ channel: 'C0PRIVATE' })).channel?.is_member).toBe(false);
    expect((await web.conversations.info({ channel: 'C0DEV' })).channel?.is_member).toBe(true);
    const eph = await web.chat.postEphemeral({ channel: 'C0DEV', user: 'U0DEV', text: 'only you' });
    expect(eph.message_ts).toBeDefined();
    expect(slack.ephemerals[0]).toMatchObject({ channel: 'C0DEV', user: 'U0DEV', text: 'only you' });
  });

  it('rejects other tokens, app tokens on bot methods and unknown methods', async () => {
    const other = new WebClient('xoxb-other', { slackApiUrl: slack.url, logger: silentLogger });
    expect((await slackError(other.auth.test())).data.error).toBe('invalid_auth');
    const app = new WebClient(APP_TOKEN, { slackApiUrl: slack.url, logger: silentLogger });
    expect((await slackError(app.chat.postMessage({ channel: 'C1', text: 'x' }))).data.error).toBe('not_allowed_token_type');
    expect((await slackError(client().apiCall('no.such.method'))).data.error).toBe('unknown_method');
  });

  it('failNext 429 + Retry-After makes WebClient pause and retry', async () => {
    const web = client({ retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    let rateLimitedFor: number | undefined;
    web.on(WebClientEvent.RATE_LIMITED, (sec: number) => {
      rateLimitedFor = sec;
    });
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await web.chat.postMessage({ channel: 'C0DEV', text: 'after the limit' });
    const elapsed = Date.now() - started;
    expect(res.ok).toBe(true);
    expect(rateLimitedFor).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    const calls = slack.callsTo('chat.postMessage');
    expect(calls.map((c) => [c.status, c.rateLimited ?? false])).toEqual([
      [429, true],
      [200, false],
    ]);
    expect(calls[0]!.response).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('failNext with an error code or an HTTP status', async () => {
    const web = client({ retryConfig: { retries: 0 } });
    slack.failNext('users.info', { error: 'fatal_error' }, 2);
    slack.users.set('U1', { id: 'U1', name: 'ann' });
    expect((await slackError(web.users.info({ user: 'U1' }))).data.error).toBe('fatal_error');
    expect((await slackError(web.users.info({ user: 'U1' }))).data.error).toBe('fatal_error');
    expect((await web.users.info({ user: 'U1' })).user?.name).toBe('ann');

    slack.failNext('chat.postMessage', { status: 503 });
    const err = await slackError(web.chat.postMessage({ channel: 'C0DEV', text: 'x' }));
    expect(err.code).toBe(ErrorCode.HTTPError);
  });

  it('uploads files the way filesUploadV2 does (getUploadURLExternal → multipart POST → complete)', async () => {
    const web = client();
    const parent = await web.chat.postMessage({ channel: 'C0DEV', text: 'logs follow' });
    const content = 'line 1\nline 2\n'.repeat(100);
    const res = await web.filesUploadV2({
      channel_id: 'C0DEV',
      thread_ts: parent.ts!,
      filename: 'myapp.log',
      title: 'myapp logs',
      initial_comment: 'last 200 lines',
      content,
    });
    expect(res.ok).toBe(true);
    expect(slack.uploads).toHaveLength(1);
    const up = slack.uploads[0]!;
    expect(up).toMatchObject({
      filename: 'myapp.log',
      channel: 'C0DEV',
      threadTs: parent.ts,
      title: 'myapp logs',
      initialComment: 'last 200 lines',
    });
    expect(up.bytes.toString('utf8')).toBe(content);
    expect(slack.callsTo('files.getUploadURLExternal')[0]!.args).toMatchObject({
      filename: 'myapp.log',
      length: String(Buffer.byteLength(content)),
    });
    expect(slack.callsTo('files.completeUploadExternal')[0]!.args['files']).toEqual([{ id: up.fileId, title: 'myapp logs' }]);
    // shared into the thread as a file_share message
    expect(slack.thread('C0DEV', parent.ts!)[0]).toMatchObject({ subtype: 'file_share', text: 'last 200 lines' });
  });

  it('answers usergroups.users.list and users.info from its directory', async () => {
    const web = client();
    slack.userGroups.set('S0OPS', ['U0LEAD', 'U0SRE']);
    slack.users.set('U0LEAD', { id: 'U0LEAD', name: 'lead', real_name: 'Ops Lead', tz: 'Europe/Berlin' });
    expect((await web.usergroups.users.list({ usergroup: 'S0OPS' })).users).toEqual(['U0LEAD', 'U0SRE']);
    expect((await slackError(web.usergroups.users.list({ usergroup: 'S0NONE' }))).data.error).toBe('no_such_subteam');
    expect((await web.users.info({ user: 'U0LEAD' })).user).toMatchObject({ real_name: 'Ops Lead', tz: 'Europe/Berlin' });
    expect((await slackError(web.users.info({ user: 'U0GHOST' }))).data.error).toBe('user_not_found');
  });

  it('per-channel rate limit answers 429 with Retry-After beyond the burst', async () => {
    const web = client({ rejectRateLimitedCalls: true });
    slack.setChannelRateLimit({ perSecond: 1, burst: 2 });
    await web.chat.postMessage({ channel: 'C0ONCALL', text: '1' });
    await web.chat.postMessage({ channel: 'C0ONCALL', text: '2' });
    const err = (await slackError(web.chat.postMessage({ channel: 'C0ONCALL', text: '3' }))) as unknown as {
      code: string;
      retryAfter: number;
    };
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBeGreaterThanOrEqual(1);
    // another channel has its own budget
    await web.chat.postMessage({ channel: 'C0OTHER', text: 'fine' });
    expect(slack.callsTo('chat.postMessage').map((c) => c.rateLimited ?? false)).toEqual([false, false, true, false]);
    expect(slack.topLevel('C0ONCALL')).toHaveLength(2);
  });

  it('waitForCall is event-driven and its timeout lists recent calls', async () => {
    const web = client();
    const waiting = slack.waitForCall((c) => c.method === 'chat.postMessage' && c.args['text'] === 'later');
    void web.chat.postMessage({ channel: 'C0DEV', text: 'later' });
    expect((await waiting).args['channel']).toBe('C0DEV');
    await expect(slack.waitForCall((c) => c.method === 'chat.delete', 50)).rejects.toThrow(
      /no matching Web API call within 50 ms[\s\S]*chat\.postMessage ok C0DEV "later"/,
    );
  });

  it('records response_url posts and answers used_url after five', async () => {
    const url = slack.newResponseUrl();
    for (let i = 0; i < 5; i++) {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `r${i}` }),
      });
      expect(r.status).toBe(200);
    }
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(404);
    const id = url.split('/').pop();
    expect(slack.responses.filter((r) => r.id === id).map((r) => r.body.text)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });
});
