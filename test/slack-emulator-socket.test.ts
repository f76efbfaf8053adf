import { describe, expect, it } from 'vitest';
import { App } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { APP_TOKEN, BOT_TOKEN, silentLogger, slack, useSlackEmulator } from './slack-emulator-fixtures.js';

useSlackEmulator();

describe('Socket Mode', () => {
  it('a Bolt socket-mode app connects, receives a slash command and a block action, and acks them', async () => {
    const app = new App({
      token: BOT_TOKEN,
      appToken: APP_TOKEN,
      socketMode: true,
      clientOptions: { slackApiUrl: slack.url },
      logger: silentLogger,
    });
    const responseUrl = slack.newResponseUrl();
    app.command('/k8s', async ({ command, ack, respond }) => {
      await ack({ text: `ok: ${command.text}` });
      await respond('queued');
    });
    app.action('approve', async ({ ack }) => {
      await ack();
    });
    await app.start();
    try {
      await slack.socket.waitForConnection(2000);
      expect(slack.callsTo('apps.connections.open')[0]).toMatchObject({ ok: true, token: APP_TOKEN });

      const ack = await slack.socket.sendSlashCommand({ text: 'status myapp beta', response_url: responseUrl });
      expect(ack.payload).toEqual({ text: 'ok: status myapp beta' });
      expect((await slack.waitForResponse((r) => responseUrl.endsWith(r.id))).body).toEqual({ text: 'queued' });

      const ack2 = await slack.socket.sendBlockAction({
        user_id: 'U0LEAD',
        channel_id: 'C0OPS',
        message_ts: '1700000000.000100',
        action_id: 'approve',
        value: 'req-1',
      });
      expect(ack2.payload).toEqual({});
    } finally {
      await app.stop();
    }
    await slack.socket.waitForDisconnection(2000);
    expect(slack.socket.connections).toBe(0);
  });

  it('an unacked envelope rejects after its timeout', async () => {
    const sm = new SocketModeClient({ appToken: APP_TOKEN, clientOptions: { slackApiUrl: slack.url }, logger: silentLogger });
    await sm.start();
    try {
      await expect(slack.socket.sendSlashCommand({ text: 'x' }, { timeoutMs: 100 })).rejects.toThrow(/no ack/);
    } finally {
      await sm.disconnect();
    }
  });

  it('a disconnect (refresh) message makes the client reconnect via apps.connections.open', async () => {
    const sm = new SocketModeClient({
      appToken: APP_TOKEN,
      clientOptions: { slackApiUrl: slack.url },
      logger: silentLogger,
      clientPingTimeout: 300, // also the reconnect delay
    });
    await sm.start();
    try {
      const before = slack.socket.totalConnections;
      const reconnected = new Promise<void>((resolve) => sm.once('connected', () => resolve()));
      slack.socket.requestRefresh();
      await reconnected;
      expect(slack.socket.totalConnections).toBe(before + 1);
      expect(slack.callsTo('apps.connections.open')).toHaveLength(2);
      const ack = await new Promise<unknown>((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the Socket Mode client awaits its listeners
        sm.on('slash_commands', async ({ ack: a }: { ack: (b?: unknown) => Promise<void> }) => {
          await a({ text: 'hi' });
        });
        slack.socket.sendSlashCommand({ text: 'help' }).then(resolve, reject);
      });
      expect(ack).toMatchObject({ payload: { text: 'hi' } });
    } finally {
      await sm.disconnect();
    }
  });
});
