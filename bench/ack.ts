/**
 * Ack latency of /k8s at 100 commands/s, beside a bare Bolt app measured in the
 * same run on the same machine. Target (DESIGN.md): our p99 ≤ 3× bare Bolt's p99.
 * Run: npx tsx bench/ack.ts   (BENCH_SECONDS=30 by default; REDIS_URL as for tests)
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App } from '@slack/bolt';
import { startHarness } from '../test/support/harness.js';
import { postSlashCommand } from '../test/support/slack/index.js';
import { SIGNING_SECRET, BOT_TOKEN } from '../test/support/harness.js';
import { atRate, benchSeconds, ms, row, summarize } from './lib.js';

const RATE = 100;

export async function benchAck(seconds = benchSeconds(30)): Promise<string[]> {
  // Our app with the app role only: commands are parsed, checked and queued; no worker drains them.
  const h = await startHarness({ name: 'bench-ack', roles: ['app'] });
  const bare = new App({ token: BOT_TOKEN, signingSecret: SIGNING_SECRET, clientOptions: { slackApiUrl: h.slack.url } });
  bare.command(/.*/, async ({ ack }) => {
    await ack({ response_type: 'ephemeral', text: 'ok' });
  });
  const bareServer = (await bare.start({ port: 0, host: '127.0.0.1' })) as Server;
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/slack/events`;

  const send = (url: string) => async (i: number) => {
    const res = await postSlashCommand(url, SIGNING_SECRET, {
      text: 'status myapp beta',
      channel_id: 'C0DEVTEAM',
      user_id: 'U0DEV',
      trigger_id: `bench-${url.length}-${i}-${Date.now()}`,
    });
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
    return res.ms;
  };
  // Warm both up, then send to both on the same schedule (each at RATE/s), so whatever
  // else the machine is doing hits both alike.
  await atRate(RATE, 1, async (i) => Math.max(await send(bareUrl)(i), await send(h.eventsUrl)(i)));
  const bareTimes: number[] = [];
  const ourTimes: number[] = [];
  await atRate(RATE, seconds, async (i) => {
    const [b, o] = await Promise.all([send(bareUrl)(i), send(h.eventsUrl)(i)]);
    bareTimes.push(b);
    ourTimes.push(o);
    return o;
  });

  const b = summarize(bareTimes);
  const o = summarize(ourTimes);
  await bare.stop();
  await h.stop();
  const ratio = o.p99 / b.p99;
  return [
    `ack latency at ${RATE} commands/s to each app, for ${seconds}s (n=${o.n} each)`,
    row('bare Bolt app', `p50 ${ms(b.p50)}  p99 ${ms(b.p99)}`, 'reference', true),
    row('k8s-chatops (parse, policy, enqueue, ack)', `p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  max ${ms(o.max)}`, '—', true),
    row('ratio p99 ours / bare', `${ratio.toFixed(2)}×`, '≤ 3×', ratio <= 3),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchAck()) console.log(line);
}
