/** The Redis a multi-process bench runs on: the test Redis (single) or a private three-master Cluster, started and removed here. */
import type { Redis } from 'ioredis';
import { createRedis, type RedisSettings } from '../../src/queue/redis.js';
import { startCluster } from '../../test/support/redis-topologies.js';
import { deletePrefix, TEST_REDIS_URL } from '../../test/support/redis.js';

export type Topology = 'single' | 'cluster';

export interface BenchRedis {
  topology: Topology;
  /** Where the bot's processes find it (REDIS_URL, and REDIS_CLUSTER_NODES for a Cluster); every other Redis variable unset. */
  env: Record<string, string | undefined>;
  /** A client of the bench's own (a Cluster client for a Cluster), as the bot connects. */
  client: Redis;
  /** Removes what the run left: its keys (single) or the whole Cluster. */
  close(prefix: string): Promise<void>;
}

export function topologyFrom(text: string | undefined): Topology {
  if (text === undefined || text === '' || text === 'single') return 'single';
  if (text === 'cluster') return 'cluster';
  throw new Error(`BENCH_REDIS must be single or cluster (got "${text}")`);
}

const UNSET = {
  REDIS_SENTINELS: undefined,
  REDIS_SENTINEL_NAME: undefined,
  REDIS_SENTINEL_PASSWORD: undefined,
  REDIS_CLUSTER_NODES: undefined,
};

export async function benchRedis(topology: Topology): Promise<BenchRedis> {
  if (topology === 'single') {
    const client = createRedis(TEST_REDIS_URL, 'worker');
    return {
      topology,
      env: { ...UNSET, REDIS_URL: TEST_REDIS_URL },
      client,
      async close(prefix) {
        client.disconnect();
        await deletePrefix(prefix);
      },
    };
  }
  const cluster = await startCluster();
  // As in production: REDIS_URL carries only the credentials, the nodes come from REDIS_CLUSTER_NODES.
  const url = `redis://:${cluster.password}@unused.invalid:1`;
  const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }));
  const settings: RedisSettings = { url, clusterNodes: nodes };
  const client = createRedis(settings, 'worker');
  return {
    topology,
    env: { ...UNSET, REDIS_URL: url, REDIS_CLUSTER_NODES: nodes.map((n) => `${n.host}:${n.port}`).join(',') },
    client,
    async close() {
      client.disconnect();
      await cluster.stop();
    },
  };
}
