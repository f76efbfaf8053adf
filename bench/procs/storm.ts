/**
 * The load of the sustained-storm bench, in a process of its own (the bot runs in another):
 * the Slack and Kubernetes emulators plus the kills, and the judge of what reached Slack.
 *   1. starts both emulators, 10 Deployments of 2 ready pods in beta, the channel limited like
 *      Slack's (1 msg/s, burst 3); prints one JSON line { slackUrl, config };
 *   2. waits for the bot's pod watch, then OOM-kills KILLS times spread evenly over SECONDS,
 *      round-robin over the pods, each container running again 20 ms after each kill;
 *   3. waits until every workload's message counts its kills and has recovered (or WAIT_SECONDS),
 *      and prints one JSON line: the report (see StormReport).
 *   npx tsx bench/procs/storm.ts <dir> <kills> <seconds> <recoverAfterMs> <waitSeconds>
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ONCALL, podsOf, runningDeployment } from '../../test/e2e/alerts-fixtures.js';
import { BOT_TOKEN } from '../../test/support/harness.js';
import { startKubeEmulator } from '../../test/support/kube/index.js';
import { startSlackEmulator, type StoredMessage } from '../../test/support/slack/index.js';

export const DEPLOYMENTS = 10;
export const REPLICAS = 2;

export interface StormReport {
  kills: number;
  stormMs: number;
  /** ms from the last kill until every message counted its kills and showed recovered (or the wait ran out). */
  settledMs: number;
  settled: boolean;
  killsPerApp: Record<string, number>;
  countedPerApp: Record<string, number>;
  /** Top-level messages per workload named in them. */
  topPerApp: Record<string, number>;
  topLevel: number;
  unnamed: number;
  /** Messages (top-level or replies) showing "Recovered" in a version posted before the last kill of their workload + recoverAfter. */
  earlyRecoveries: string[];
  posts: number;
  rateLimited: number;
  /** The most posts in any 1 s window, and the pairs of posts closer than the 1 msg/s rate allows (less 500 ms jitter). */
  busiestSecond: number;
  tooClose: number;
  /** The shortest gap between two consecutive posts in the channel, ms. */
  minGapMs: number;
  updates: number;
}

const [dir = '.', killsArg = '1000', secondsArg = '10', recoverArg = '2000', waitArg = '60'] = process.argv.slice(2);
const KILLS = Number(killsArg);
const STORM_MS = Number(secondsArg) * 1_000;
const RECOVER_AFTER_MS = Number(recoverArg);
const WAIT_MS = Number(waitArg) * 1_000;

const kube = await startKubeEmulator({ namespaces: ['default', 'beta'], nodes: 3 });
const slack = await startSlackEmulator({ botToken: BOT_TOKEN });
slack.setChannelRateLimit({ perSecond: 1, burst: 3 });
process.on('SIGTERM', () => {
  void Promise.all([slack.close(), kube.close()]).then(() => process.exit(0));
});
const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
const config = join(dir, 'chatops.yaml');
await writeFile(
  config,
  `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments: { beta: { cluster: default, namespace: beta } }
channels: { ${ONCALL}: { environments: [beta], commands: ["*"] } }
alerts:
  - { environments: [beta], channel: ${ONCALL}, on: [OOMKilled], pendingFor: 1m, recoverAfter: ${RECOVER_AFTER_MS}ms, reopenWithin: 1m }
`,
);
await Promise.all(Array.from({ length: DEPLOYMENTS }, (_, i) => runningDeployment(kube, 'beta', `storm-${i}`, { replicas: REPLICAS })));
process.stdout.write(`${JSON.stringify({ slackUrl: slack.url, config })}\n`);

// Kills before the watch opens would be seen only as the state the first list shows.
// (Polled: the emulator's waitFor checks again only when the cluster changes, and a request changes nothing.)
for (const deadline = Date.now() + 180_000; ; await new Promise((r) => setTimeout(r, 100))) {
  if (kube.requests.some((r) => r.path === '/api/v1/namespaces/beta/pods' && ['true', '1'].includes(String(r.query.watch)))) break;
  if (Date.now() > deadline) throw new Error('the bot did not watch pods in beta within 180 s');
}

const pods = Array.from({ length: DEPLOYMENTS }, (_, i) =>
  podsOf(kube, 'beta', `storm-${i}`).map((p) => ({ app: `storm-${i}`, name: p.metadata.name as string })),
).flat();
const kills = new Map<string, number>();
const lastKill = new Map<string, number>();
const started = Date.now();
for (let i = 0; i < KILLS; i++) {
  // Always yield, also when behind schedule: the kubelet's restarts are timers too.
  await new Promise((r) => setTimeout(r, Math.max(0, started + (i * STORM_MS) / KILLS - Date.now())));
  // The next pod whose container is running (one still restarting cannot be killed).
  let pod: (typeof pods)[number] | undefined;
  while (!pod) {
    for (let j = 0; j < pods.length && !pod; j++) {
      const candidate = pods[(i + j) % pods.length]!;
      if (kube.oomKill('beta', candidate.name, undefined, { restartAfterMs: 20 })) pod = candidate;
    }
    if (!pod) await new Promise((r) => setTimeout(r, 5));
  }
  lastKill.set(pod.app, Date.now());
  kills.set(pod.app, (kills.get(pod.app) ?? 0) + 1);
}
const stormEnded = Date.now();

const nameOf = (text: string) => /deployment (storm-\d+)/.exec(text)?.[1];
const countOf = (text: string) =>
  Number(/ — (\d+) occurrences/.exec(text)?.[1] ?? /\((\d+) occurrences?\)/.exec(text)?.[1] ?? (/OOMKilled/.test(text) ? 1 : 0));
const recovered = (m: StoredMessage) => m.text.startsWith(':white_check_mark: Recovered');
const top = () => slack.topLevel(ONCALL);
const done = () => top().length >= DEPLOYMENTS && top().every((m) => recovered(m) && countOf(m.text) === kills.get(nameOf(m.text) ?? ''));
const settled = await slack.waitForCall(done, WAIT_MS).then(
  () => true,
  () => done(),
);
const settledMs = Date.now() - stormEnded;

const messages = top();
const perApp = (value: (m: StoredMessage) => number) => {
  const out: Record<string, number> = {};
  for (const m of messages) {
    const name = nameOf(m.text) ?? '(unnamed)';
    out[name] = (out[name] ?? 0) + value(m);
  }
  return out;
};
const earlyRecoveries: string[] = [];
for (const m of messages) {
  const name = nameOf(m.text);
  const last = name ? lastKill.get(name) : undefined;
  if (last === undefined) continue;
  for (const msg of [m, ...slack.thread(ONCALL, m.ts)]) {
    const early = msg.versions.find((v) => /Recovered/.test(v.text) && v.at < last + RECOVER_AFTER_MS - 50);
    if (early) earlyRecoveries.push(`${name}: ${early.at - started} ms after the first kill, its last kill at ${last - started} ms`);
  }
}
const posts = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === ONCALL);
let tooClose = 0;
for (let i = 0; i < posts.length; i++)
  for (let j = i + 1; j < posts.length; j++) if (posts[j]!.at - posts[i]!.at < (j - i) * 1_000 - 500) tooClose++;
const report: StormReport = {
  kills: KILLS,
  stormMs: stormEnded - started,
  settledMs,
  settled,
  killsPerApp: Object.fromEntries(kills),
  countedPerApp: perApp((m) => countOf(m.text)),
  topPerApp: perApp(() => 1),
  topLevel: messages.length,
  unnamed: messages.filter((m) => !nameOf(m.text)).length,
  earlyRecoveries,
  posts: posts.length,
  rateLimited: posts.filter((c) => c.rateLimited).length,
  busiestSecond: Math.max(0, ...posts.map((p) => posts.filter((q) => q.at >= p.at && q.at < p.at + 1_000).length)),
  tooClose,
  minGapMs: Math.min(...posts.slice(1).map((p, i) => p.at - posts[i]!.at)),
  updates: slack.callsTo('chat.update').length,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
