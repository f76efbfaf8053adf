import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { useHarness } from '../support/use-harness.js';

/** Every line the bot logs, at debug, as Socket Mode runs it. */
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

const h = useHarness({ name: 'debug-log', socketMode: true, log: pino({ level: 'debug' }, sink) });
beforeAll(async () => {
  await h.slack.socket.waitForConnection(5_000);
});

describe('LOG_LEVEL=debug', () => {
  it('logs Bolt and Socket Mode activity, never their raw payloads (typed values, response_urls)', async () => {
    const responseUrl = h.slack.newResponseUrl();
    const ack = await h.slack.socket.sendSlashCommand({
      text: 'deploy myapp beta hunter2-secret-tag',
      channel_id: 'C0DEVTEAM',
      user_id: 'U0DEV',
      response_url: responseUrl,
    });
    expect(ack.payload).toMatchObject({ text: expect.stringContaining('Queued') });
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && /deploy myapp hunter2-secret-tag → beta/.test(String(c.args.text)),
      15_000,
    );
    const bolt = lines.filter((l) => l.includes('"component":"bolt"'));
    expect(bolt.some((l) => l.includes('Received a message on the WebSocket'))).toBe(true);
    expect(bolt.filter((l) => l.includes('hunter2'))).toEqual([]);
    expect(lines.filter((l) => l.includes(responseUrl))).toEqual([]);
    expect(bolt.filter((l) => l.includes('envelope_id'))).toEqual([]);
  });
});
