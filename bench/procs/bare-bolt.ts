/**
 * A bare Bolt app that acks every slash command, in a process of its own: the
 * reference the ack bench compares the bot with. Prints "ready <port>".
 *   npx tsx bench/procs/bare-bolt.ts <port> <slack api url>
 */
import { App, LogLevel } from '@slack/bolt';
import { BOT_TOKEN, SIGNING_SECRET } from '../../test/support/harness.js';

const [port = '0', slackApiUrl] = process.argv.slice(2);
const app = new App({
  token: BOT_TOKEN,
  signingSecret: SIGNING_SECRET,
  logLevel: LogLevel.ERROR,
  ...(slackApiUrl ? { clientOptions: { slackApiUrl } } : {}),
});
app.command(/.*/, async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'ok' });
});
await app.start({ port: Number(port), host: '127.0.0.1' });
process.stdout.write(`ready ${port}\n`);
process.on('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
