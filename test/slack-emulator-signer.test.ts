import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '@slack/bolt';
import { blockActionPayload, postBlockAction, postSlashCommand, sign } from './support/slack/index.js';
import { BOT_TOKEN, SIGNING_SECRET, silentLogger, slack, useSlackEmulator } from './slack-emulator-fixtures.js';

useSlackEmulator();

describe('signer against a Bolt HTTP app', () => {
  let app: App;
  let eventsUrl: string;
  const seen: { commands: any[]; actions: any[] } = { commands: [], actions: [] };

  beforeAll(async () => {
    // Bolt calls auth.test in the constructor (token verification): the emulator must already run.
    app = new App({
      token: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      clientOptions: { slackApiUrl: slack.url },
      logger: silentLogger,
    });
    app.command('/k8s', async ({ command, ack, respond, client: web }) => {
      seen.commands.push(command);
      await ack({ response_type: 'ephemeral', text: `got: ${command.text}` });
      await respond({ text: 'queued' });
      await web.chat.postMessage({ channel: command.channel_id, text: `running ${command.text}` });
    });
    app.action('approve', async ({ body, ack, respond }) => {
      seen.actions.push(body);
      await ack();
      await respond({ replace_original: false, text: 'approved' });
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    await app.stop();
  });

  it('delivers a signed slash command; the ack body, respond() and Web API calls all arrive', async () => {
    const responseUrl = slack.newResponseUrl();
    const res = await postSlashCommand(eventsUrl, SIGNING_SECRET, {
      text: 'deploy myapp beta',
      channel_id: 'C0DEVTEAM',
      user_id: 'U0DEV',
      response_url: responseUrl,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: 'got: deploy myapp beta' });
    expect(res.ms).toBeGreaterThan(0);
    const cmd = seen.commands.at(-1);
    expect(cmd).toMatchObject({
      command: '/k8s',
      text: 'deploy myapp beta',
      channel_id: 'C0DEVTEAM',
      user_id: 'U0DEV',
      team_id: slack.teamId,
      response_url: responseUrl,
    });
    expect(Object.keys(cmd).sort()).toEqual(
      [
        'api_app_id',
        'channel_id',
        'channel_name',
        'command',
        'is_enterprise_install',
        'response_url',
        'team_domain',
        'team_id',
        'text',
        'token',
        'trigger_id',
        'user_id',
        'user_name',
      ].sort(),
    );
    const posted = await slack.waitForResponse((r) => responseUrl.endsWith(r.id));
    expect(posted.body).toEqual({ text: 'queued' });
    const call = await slack.waitForCall((c) => c.method === 'chat.postMessage');
    expect(call.args).toMatchObject({ channel: 'C0DEVTEAM', text: 'running deploy myapp beta' });
  });

  it('delivers a signed block action as payload=<json>', async () => {
    const responseUrl = slack.newResponseUrl();
    const res = await postBlockAction(eventsUrl, SIGNING_SECRET, {
      user_id: 'U0LEAD',
      channel_id: 'C0OPS',
      message_ts: '1700000000.000100',
      thread_ts: '1700000000.000001',
      action_id: 'approve',
      value: 'req-42',
      response_url: responseUrl,
    });
    expect(res.status).toBe(200);
    const body = seen.actions.at(-1);
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0LEAD' },
      channel: { id: 'C0OPS' },
      container: { type: 'message', message_ts: '1700000000.000100', thread_ts: '1700000000.000001' },
      actions: [{ action_id: 'approve', value: 'req-42', type: 'button' }],
    });
    expect((await slack.waitForResponse((r) => responseUrl.endsWith(r.id))).body).toMatchObject({
      text: 'approved',
    });
  });

  it('a bad or stale signature gets 401 and never reaches the listener', async () => {
    const before = seen.commands.length;
    const bad = await postSlashCommand(eventsUrl, SIGNING_SECRET, { text: 'status' }, { badSignature: true });
    expect(bad.status).toBe(401);
    const stale = await postSlashCommand(
      eventsUrl,
      SIGNING_SECRET,
      { text: 'status' },
      { timestampSec: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(stale.status).toBe(401);
    expect(seen.commands.length).toBe(before);
  });

  it('sign() matches Bolt’s own verifier', async () => {
    const { verifySlackRequest } = await import('@slack/bolt');
    const body = 'payload=%7B%7D';
    const ts = Math.floor(Date.now() / 1000);
    const headers = sign(SIGNING_SECRET, body, ts);
    expect(() =>
      verifySlackRequest({
        signingSecret: SIGNING_SECRET,
        body,
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': ts },
      }),
    ).not.toThrow();
    expect(blockActionPayload({ user_id: 'U1', channel_id: 'C1', message_ts: '1.1', action_id: 'a', value: 'v' }).token).toBeTypeOf(
      'string',
    );
  });
});
