import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import { startCluster, until, type ClusterSetup } from '../support/redis-topologies.js';
import { redisAnswers } from '../../src/queue/redis.js';
import { deployAndApprove, TOPOLOGY_CONFIG } from './topology-flows.js';

let cluster: ClusterSetup;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});
const h = useHarness(() => ({
  name: 'cluster',
  config: TOPOLOGY_CONFIG,
  redisUrl: `redis://:${cluster.password}@unused.invalid:1`,
  env: { REDIS_CLUSTER_NODES: cluster.ports.map((p) => `127.0.0.1:${p}`).join(',') },
  cleanup: false,
}));
beforeAll(async () => {
  // Connecting goes through Sentinel / the cluster's slot map: wait until the bot's Redis answers.
  await until(() => redisAnswers(h.chatops.redis), 20_000, 'the bot to reach Redis');
}, 60_000);

describe('Redis Cluster', () => {
  it('runs a deploy and an approved prod deploy: every key and script of ours in one slot', async () => {
    expect(h.prefix).toMatch(/^\{[^}]+\}$/);
    await deployAndApprove(h, '1.0.0');
  });

  it('survives a restart of the node that holds our slot: answers "not queued" while it is down, then everything works and nothing is lost', async () => {
    const node = await cluster.nodeFor(h.prefix);
    const auditBefore = (await h.chatops.services.audit.recent({ limit: 100 })).length;
    await node.stop();
    const down = await h.command('deploy myapp beta 1.5.0', { channel: 'C0OPS', user: 'U0DEV' });
    expect(down.ms).toBeLessThan(3_000);
    expect(down.json.text).toMatch(/not\* queued/);

    await node.start();
    await until(
      async () =>
        (await redisAnswers(h.chatops.redis)) &&
        (await h.chatops.redis.get(`${h.prefix}:probe`).then(
          () => true,
          () => false,
        )),
      30_000,
      'the bot to reach the restarted node',
    );
    expect((await h.chatops.services.audit.recent({ limit: 100 })).length).toBeGreaterThanOrEqual(auditBefore);
    await deployAndApprove(h, '2.0.0');
  });
});
