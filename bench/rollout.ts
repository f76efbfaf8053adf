/**
 * API requests per second while following a rollout: a deploy whose pods take
 * 6 s to become ready, followed to the end. Target (DESIGN.md): watches, not
 * polls; ≤ 1 API request/s per active rollout.  Run: npx tsx bench/rollout.ts
 */
import { E2E_CONFIG, startHarness } from '../test/support/harness.js';
import { row } from './lib.js';

export async function benchRollout(): Promise<string[]> {
  // The e2e config's 3 s progress deadline would end this rollout early: give it 30 s.
  const h = await startHarness({
    name: 'bench-rollout',
    config: (kc) => E2E_CONFIG(kc).replace('progressDeadlineSeconds: 3', 'progressDeadlineSeconds: 30'),
  });
  h.kube.setImageBehavior('registry.example.com/team/myapp:slow', { kind: 'slowReady', readyAfterMs: 6_000 });
  const deployment = (await h.command('deploy myapp beta slow', { channel: 'C0OPS' })).status;
  if (deployment !== 200) throw new Error('command refused');
  const applied = await h.slack.waitForCall((c) => c.method === 'chat.postMessage' && /applied to beta/.test(c.args.text), 15_000);
  const done = await h.slack.waitForCall((c) => c.method === 'chat.update' && /deploy myapp slow → beta — done/.test(c.args.text), 30_000);
  const requests = h.kube.requests.filter((r) => r.at >= applied.at && r.at <= done.at && !r.path.includes('selfsubjectaccessreviews'));
  const seconds = (done.at - applied.at) / 1_000;
  const watches = requests.filter((r) => ['true', '1'].includes(String(r.query.watch))).length;
  const perSecond = requests.length / seconds;
  await h.stop();
  return [
    `one rollout followed for ${seconds.toFixed(1)} s (pods ready after 6 s)`,
    row('API requests while following', `${requests.length} (${watches} watch streams)`, 'watches, not polls', watches >= 1),
    row('API requests per second', `${perSecond.toFixed(2)}/s`, '≤ 1/s per active rollout', perSecond <= 1),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchRollout()) console.log(line);
  process.exit(0);
}
