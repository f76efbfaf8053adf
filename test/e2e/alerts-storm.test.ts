import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { alertConfig, botWatches, ONCALL, podsOf, runningDeployment } from './alerts-fixtures.js';

const DEPLOYMENTS = 10;
const REPLICAS = 10;
const ROUNDS = 10; // 10 × 10 × 10 = 1,000 OOM kills

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ name: 'alerts-storm', config: alertConfig({ pendingFor: '1m', on: ['OOMKilled'] }) });
  // Slack's per-channel rate, enforced by the emulator: 1 message/s, a burst of 3; more is answered 429.
  h.slack.setChannelRateLimit({ perSecond: 1, burst: 3 });
  await Promise.all(Array.from({ length: DEPLOYMENTS }, (_, i) => runningDeployment(h.kube, 'beta', `storm-${i}`, { replicas: REPLICAS })));
  // Kills before the watch opens would be seen only as the state the first list shows.
  await botWatches(h.kube, 'beta');
});
afterAll(async () => {
  await h?.stop();
});

const countOf = (text: string) => Number(/ — (\d+) occurrences/.exec(text)?.[1] ?? (/OOMKilled/.test(text) ? 1 : 0));

describe('an OOM storm', () => {
  it('posts one message per deployment, counts all 1,000 kills, and never exceeds the channel\'s rate', async () => {
    const pods = Array.from({ length: DEPLOYMENTS }, (_, i) => podsOf(h.kube, 'beta', `storm-${i}`)).flat();
    expect(pods).toHaveLength(DEPLOYMENTS * REPLICAS);
    const started = Date.now();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const pod of pods) h.kube.oomKill('beta', pod.metadata.name);
      // Each kill is its own restart: wait until every pod's restart count has moved on before the next round.
      await h.kube.waitFor(() => pods.every((p) => h.kube.get('v1', 'Pod', 'beta', p.metadata.name)?.status.containerStatuses[0].restartCount >= round), 5_000, `round ${round}`);
    }
    const stormMs = Date.now() - started;

    const total = () => h.slack.topLevel(ONCALL).reduce((sum, m) => sum + countOf(m.text), 0);
    await h.slack.waitForCall(() => total() === DEPLOYMENTS * REPLICAS * ROUNDS, 18_000).catch(() => undefined);
    const top = h.slack.topLevel(ONCALL);
    expect(top).toHaveLength(DEPLOYMENTS);
    expect(new Set(top.map((m) => /deployment (storm-\d+)/.exec(m.text)?.[1])).size).toBe(DEPLOYMENTS);
    expect(total()).toBe(DEPLOYMENTS * REPLICAS * ROUNDS);

    const posts = h.slack.callsTo('chat.postMessage');
    expect(posts.filter((c) => c.rateLimited)).toEqual([]);
    // The same check as Slack's: a bucket of 3, refilled at 1/s, never runs dry.
    let tokens = 3;
    let last = posts[0]?.at ?? 0;
    for (const c of posts) {
      tokens = Math.min(3, tokens + (c.at - last) / 1_000) - 1;
      last = c.at;
      expect(tokens).toBeGreaterThanOrEqual(-0.01);
    }
    const updates = h.slack.callsTo('chat.update');
    const spanS = ((updates.at(-1)?.at ?? started) - started) / 1_000;
    expect(updates.length).toBeLessThanOrEqual(10 + (50 / 60) * spanS + 1);
    console.log(`storm: ${stormMs} ms of kills; ${posts.length} posts (${DEPLOYMENTS} top-level), ${updates.length} updates; all counted after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 30_000);
});
