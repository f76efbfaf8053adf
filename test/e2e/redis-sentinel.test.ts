import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { useHarness } from '../support/use-harness.js';
import { startSentinelSetup, until, type SentinelSetup } from '../support/redis-topologies.js';
import { redisAnswers } from '../../src/queue/redis.js';
import { deployAndApprove, deployDone, TOPOLOGY_CONFIG } from './topology-flows.js';

let setup: SentinelSetup;
beforeAll(async () => {
  setup = await startSentinelSetup();
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});
const h = useHarness(() => ({
  name: 'sentinel',
  config: TOPOLOGY_CONFIG,
  // Host and port of REDIS_URL are not used with Sentinel: only its credentials.
  redisUrl: `redis://:${setup.password}@unused.invalid:1`,
  env: {
    REDIS_SENTINELS: `127.0.0.1:${setup.sentinelPort}`,
    REDIS_SENTINEL_NAME: setup.name,
    REDIS_SENTINEL_PASSWORD: setup.sentinelPassword,
  },
  cleanup: false,
}));
beforeAll(async () => {
  // Connecting goes through Sentinel / the cluster's slot map: wait until the bot's Redis answers.
  await until(() => redisAnswers(h.chatops.redis), 20_000, 'the bot to reach Redis');
}, 60_000);

describe('Redis behind Sentinel', () => {
  it('runs a deploy and an approved prod deploy through the master Sentinel names', async () => {
    await deployAndApprove(h, '1.0.0');
  });

  it('a failover during a deploy: the deploy finishes once, and commands keep flowing on the new master', async () => {
    h.kube.setImageBehavior('registry.example.com/team/myapp:2.0.0', { kind: 'slowReady', readyAfterMs: 4_000 });
    const since = h.mark();
    expect((await h.command('deploy myapp beta 2.0.0', { channel: 'C0OPS', user: 'U0DEV' })).json.text).toContain('Queued');
    await h.slack.waitForCall(
      (c) => c.seq > since && c.method === 'chat.postMessage' && /applied to beta: .*myapp:2\.0\.0/.test(c.args.text),
      15_000,
    );
    const generation = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').metadata.generation;

    // Sentinel promotes the replica; the old master becomes its replica.
    const sentinel = new Redis({ port: setup.sentinelPort, host: '127.0.0.1', password: setup.sentinelPassword });
    await sentinel.call('SENTINEL', 'failover', setup.name);
    sentinel.disconnect();
    await until(async () => (await setup.masterPort()) === setup.replica.port, 20_000, 'the replica to become master');

    const finished = await deployDone(h, '2.0.0', 'beta', since);
    expect(
      h.slack.calls.filter(
        (c) => c.seq > since && c.method === 'chat.postMessage' && !c.args.thread_ts && /deploy myapp 2\.0\.0 → beta/.test(c.args.text),
      ),
    ).toHaveLength(1);
    expect(
      h.slack.calls.filter(
        (c) => c.seq > since && c.method === 'chat.update' && c.args.ts === finished.args.ts && /— done/.test(c.args.text),
      ),
    ).toHaveLength(1);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').metadata.generation).toBe(generation);
    // Audited once (the record follows the ✅ update).
    const succeeded = async () =>
      (await h.chatops.services.audit.recent({ env: 'beta', limit: 50 })).filter(
        (e) => e.outcome === 'succeeded' && /2\.0\.0/.test(e.command),
      );
    await until(async () => (await succeeded()).length > 0, 10_000, 'the audit record');
    expect(await succeeded()).toHaveLength(1);

    // And the whole flow works on the new master.
    await deployAndApprove(h, '3.0.0');
  });
});
