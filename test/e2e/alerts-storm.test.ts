/**
 * A sustained OOM storm: 1,000 kills spread over 10 s across 10 Deployments of 2 pods, each container
 * running again right after each kill (as the kubelet restarts it). Recovery is shortened by config
 * (recoverAfter 5s) so the test waits on Slack, never on sleeps; 5 s, not less, because each workload
 * must see kills without a pause that long, and on a starved CI machine this process can stall for 2 s.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { StoredMessage } from '../support/slack/index.js';
import { botWatches, ONCALL, podsOf, runningDeployment } from './alerts-fixtures.js';

const DEPLOYMENTS = 10;
const REPLICAS = 2;
const KILLS = 1_000;
const STORM_MS = 10_000;
const RECOVER_AFTER_MS = 5_000;

const config = (kubeconfig: string) => `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments: { beta: { cluster: default, namespace: beta } }
channels: { ${ONCALL}: { environments: [beta], commands: ["*"] } }
alerts:
  - { environments: [beta], channel: ${ONCALL}, on: [OOMKilled], pendingFor: 1m, recoverAfter: ${RECOVER_AFTER_MS / 1_000}s, reopenWithin: 1m }
`;

const h = useHarness({ name: 'alerts-storm', config });
beforeAll(async () => {
  // Slack's per-channel rate, enforced by the emulator: 1 message/s, a short burst; more is answered 429.
  h.slack.setChannelRateLimit({ perSecond: 1, burst: 3 });
  await Promise.all(Array.from({ length: DEPLOYMENTS }, (_, i) => runningDeployment(h.kube, 'beta', `storm-${i}`, { replicas: REPLICAS })));
  // Kills before the watch opens would be seen only as the state the first list shows.
  await botWatches(h.kube, 'beta');
});

const nameOf = (text: string) => /deployment (storm-\d+)/.exec(text)?.[1];
const countOf = (text: string) =>
  Number(/ — (\d+) occurrences/.exec(text)?.[1] ?? /\((\d+) occurrences?\)/.exec(text)?.[1] ?? (/OOMKilled/.test(text) ? 1 : 0));
const recovered = (m: StoredMessage) => m.text.startsWith(':white_check_mark: Recovered');

describe('a sustained OOM storm', () => {
  it('gives every deployment one message counting all its kills, recovers only once the kills stop, and keeps the channel at 1 post/s', async () => {
    const pods = Array.from({ length: DEPLOYMENTS }, (_, i) =>
      podsOf(h.kube, 'beta', `storm-${i}`).map((p) => ({ app: `storm-${i}`, name: p.metadata.name as string })),
    ).flat();
    expect(pods).toHaveLength(DEPLOYMENTS * REPLICAS);
    const lastKill = new Map<string, number>();
    const kills = new Map<string, number>();
    const started = Date.now();
    // The load: kill number i at started + i × 10 ms, round-robin over the pods (each pod every 200 ms).
    for (let i = 0; i < KILLS; i++) {
      // Always yield, also when behind schedule: the kubelet's restarts are timers too.
      await new Promise((r) => setTimeout(r, Math.max(0, started + (i * STORM_MS) / KILLS - Date.now())));
      // The next pod whose container is running (one still restarting cannot be killed).
      let pod: (typeof pods)[number] | undefined;
      while (!pod) {
        for (let j = 0; j < pods.length && !pod; j++) {
          const candidate = pods[(i + j) % pods.length]!;
          if (h.kube.oomKill('beta', candidate.name, undefined, { restartAfterMs: 20 })) pod = candidate;
        }
        if (!pod) await new Promise((r) => setTimeout(r, 5));
      }
      lastKill.set(pod.app, Date.now());
      kills.set(pod.app, (kills.get(pod.app) ?? 0) + 1);
    }
    const stormEnded = Date.now();
    const allMessages = () => [...h.slack.topLevel(ONCALL), ...h.slack.topLevel(ONCALL).flatMap((m) => h.slack.thread(ONCALL, m.ts))];
    // While the kills went on, nothing recovered.
    expect(
      allMessages()
        .filter((m) => m.versions.some((v) => v.at <= stormEnded && /Recovered/.test(v.text)))
        .map((m) => m.text.slice(0, 120)),
      'recovered during the storm',
    ).toEqual([]);

    const top = () => h.slack.topLevel(ONCALL);
    await h.slack
      .waitForCall(
        () => top().length === DEPLOYMENTS && top().every((m) => recovered(m) && countOf(m.text) === kills.get(nameOf(m.text) ?? '')),
        30_000 + RECOVER_AFTER_MS,
      )
      .catch(() => undefined);
    const messages = top();
    expect(messages.map((m) => nameOf(m.text)).sort()).toEqual([...kills.keys()].sort());
    expect(Object.fromEntries(messages.map((m) => [nameOf(m.text), countOf(m.text)]))).toEqual(Object.fromEntries(kills));
    expect(messages.reduce((n, m) => n + countOf(m.text), 0)).toBe(KILLS);
    for (const m of messages) {
      const name = nameOf(m.text)!;
      const firstRecovered = m.versions.find((v) => /Recovered/.test(v.text));
      expect(firstRecovered, `${name} recovered`).toBeDefined();
      // Quiet for the whole window: never before the last kill + recoverAfter.
      expect(firstRecovered!.at - lastKill.get(name)!).toBeGreaterThanOrEqual(RECOVER_AFTER_MS - 50);
    }

    // At most one post per second in the channel, and Slack never had to say 429.
    const posts = h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === ONCALL);
    expect(
      posts.filter((c) => c.rateLimited).map((c) => `${c.at - started} ms: ${String(c.args.text).slice(0, 60)}`),
      'answered 429',
    ).toEqual([]);
    // n posts span at least n - 1 seconds (less half a second for the network's jitter on this side of Slack).
    for (let i = 0; i < posts.length; i++) {
      for (let j = i + 1; j < posts.length; j++)
        expect(posts[j]!.at - posts[i]!.at, `posts ${i}..${j}`).toBeGreaterThanOrEqual((j - i) * 1_000 - 500);
    }
    console.log(
      `storm: ${KILLS} kills in ${stormEnded - started} ms; ${messages.length} top-level messages; ${posts.length} posts; all recovered and counted ${Date.now() - stormEnded} ms after the last kill`,
    );
  }, 150_000);

  it('reopens the same incident and thread for a kill soon after the recovery', async () => {
    const before = h.slack.topLevel(ONCALL);
    const msg = before.find((m) => nameOf(m.text) === 'storm-3')!;
    const count = countOf(msg.text);
    // The thread has said it recovered (replies wait their turn behind the storm's).
    await h.slack.waitForCall(() => h.slack.thread(ONCALL, msg.ts).some((r) => /Recovered/.test(r.text)), 40_000);
    const pod = podsOf(h.kube, 'beta', 'storm-3')[0];
    h.kube.oomKill('beta', pod.metadata.name, undefined, { restartAfterMs: 20 });
    await h.slack.waitForCall(
      () =>
        h.slack.thread(ONCALL, msg.ts).some((r) => /Reopened/.test(r.text)) && countOf(h.slack.message(ONCALL, msg.ts)!.text) === count + 1,
      30_000,
    );
    // The headline was open again with the new count (it may recover again right after: recoverAfter is 5 s here).
    const versions = h.slack.message(ONCALL, msg.ts)!.versions;
    expect(versions.some((v) => countOf(v.text) === count + 1 && !/Recovered/.test(v.text))).toBe(true);
    expect(h.slack.topLevel(ONCALL)).toHaveLength(before.length);
  }, 90_000);
});
