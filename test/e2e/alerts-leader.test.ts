import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlerts, type RunningAlerts } from '../../src/alerts/index.js';
import { parseConfig } from '../../src/config/load.js';
import { Clusters } from '../../src/kube/clusters.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/queue/redis.js';
import { IntentStore } from '../../src/command/intents.js';
import { BOT_TOKEN } from '../support/harness.js';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../support/redis.js';
import { startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';
import { alertConfig, alertsMatching, runningDeployment, waitForAlert, waitForThreadReply } from './alerts-fixtures.js';

const LEASE = 'k8s-chatops-alerts-test';
let kube: KubeEmulator;
let slack: SlackEmulator;
let clusters: Clusters;
let config: ReturnType<typeof parseConfig>;
const prefix = freshPrefix('alerts-leader');
const connections: Redis[] = [];
const replicas: RunningAlerts[] = [];

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'beta', 'prod'] });
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
  const dir = await mkdtemp(join(tmpdir(), 'chatops-alerts-leader-'));
  const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'));
  const file = join(dir, 'chatops.yaml');
  const yaml = alertConfig({ pendingFor: '1m' })(kubeconfig);
  await writeFile(file, yaml);
  config = parseConfig(yaml, file);
  clusters = new Clusters(config, file);
});
afterAll(async () => {
  for (const r of replicas) await r.stop();
  connections.forEach((c) => c.disconnect());
  await slack?.close();
  await kube?.close();
  await deletePrefix(prefix);
});

/** One alerts replica, as `--role alerts` would run it, with a 1 s lease renewed every 200 ms. */
async function replica(identity: string): Promise<RunningAlerts> {
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  connections.push(redis, connection);
  const running = await startAlerts({
    config,
    clusters,
    slack: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url }),
    redis,
    connection,
    intents: new IntentStore(redis, prefix, testSigner()),
    prefix,
    signer: testSigner(),
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    options: { identity, leaseNamespace: 'default', leaseName: LEASE, leaseDurationMs: 1_000, retryPeriodMs: 200 },
  });
  replicas.push(running);
  return running;
}

const lease = () => kube.get('coordination.k8s.io/v1', 'Lease', 'default', LEASE);

describe('leader election between alert watchers', () => {
  let a: RunningAlerts;
  let b: RunningAlerts;
  let pods: any[];

  it('lets one replica watch while the other waits', async () => {
    a = await replica('replica-a');
    await a.whenWatching();
    b = await replica('replica-b');
    // Let the follower read the lease a few times while the leader renews it.
    const renewed = lease().spec.renewTime;
    await kube.waitFor(() => lease().spec.renewTime !== renewed && lease(), 3_000, 'a renewal');
    await kube.waitFor(
      () => kube.requests.filter((r) => r.path.endsWith(`/leases/${LEASE}`) && r.method === 'GET').length >= 4,
      3_000,
      'the follower reading the lease',
    );
    expect(lease().spec.holderIdentity).toBe('replica-a');
    expect(a.leading()).toEqual(['default']);
    expect(b.leading()).toEqual([]);
    // Pods, Warning events and Jobs (a CronJob's runs group under it) of beta and prod: six watches, all the leader's.
    expect(kube.watchCount()).toBe(6);

    pods = await runningDeployment(kube, 'beta', 'failover', { replicas: 2 });
    kube.oomKill('beta', pods[0].metadata.name);
    await waitForAlert(slack, /OOMKilled · deployment failover · beta/);
  });

  it('hands over within the lease duration when the leader dies; the new leader neither repeats nor forgets', async () => {
    const alert = alertsMatching(slack, /deployment failover/)[0]!;
    const died = Date.now();
    await a.stop({ release: false }); // as a crash: the lease is left to expire
    await b.whenWatching();
    const tookMs = Date.now() - died;
    // A lease of 1 s: well within a few lease durations even on a loaded machine (never a fixed 1.25 s bound).
    expect(tookMs).toBeLessThan(4 * 1_000);
    expect(lease().spec.holderIdentity).toBe('replica-b');
    expect(lease().spec.leaseTransitions).toBe(1);
    expect(b.leading()).toEqual(['default']);

    // B re-listed every pod, the killed one included: no second message. The next kill goes in the same thread.
    kube.oomKill('beta', pods[1].metadata.name);
    await waitForThreadReply(slack, alert.ts, new RegExp(`Again: OOMKilled in pod \`${pods[1].metadata.name}\` — 2 in total`));
    expect(alertsMatching(slack, /deployment failover/)).toHaveLength(1);
  });

  it('hands over at once when the leader stops gracefully (it releases the lease)', async () => {
    const c = await replica('replica-c');
    await b.stop();
    const since = kube.requests.length;
    await c.whenWatching();
    // Counted, not timed: a lease of 1 s waited out takes C five reads or more (one every 200 ms); a released one, one.
    const reads = kube.requests.slice(since).filter((r) => r.path.endsWith(`/leases/${LEASE}`) && r.method === 'GET').length;
    expect(reads).toBeLessThanOrEqual(2);
    expect(lease().spec.holderIdentity).toBe('replica-c');
  });
});
