/**
 * The alerts role: per cluster, a Lease elects the one replica that watches
 * (monitor.ts); every replica delivers (delivery.ts) from the `alerts` queue.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import { MeteredWebClient } from '../slack/client.js';
import type { Config } from '../config/schema.js';
import type { ClusterClient, Clusters } from '../kube/clusters.js';
import { botNamespace } from '../kube/permission-check.js';
import type { Logger } from '../log.js';
import type { IntentStore } from '../command/intents.js';
import { createAlertQueue, enqueueIncident, type AlertJob } from './alert-queue.js';
import { startDelivery, type DeliveryDeps } from './delivery.js';
import { IncidentStore, type IncidentState } from './incidents.js';
import { defaultIdentity, LeaderElector } from './leader.js';
import { ClusterMonitor } from './monitor.js';
import { nodeRules, watchTargets } from './routes.js';
import { RateLimiter, type RateLimit } from './ratelimit.js';
import { defaultBackoff } from './watch.js';
import { AuditLog } from '../audit/index.js';
import { observedPeak, setUpCharts } from './chart.js';
import type { MemorySampler } from '../charts/sampler.js';
import type { Signer } from '../security/signing.js';

export { registerAlertButtons, type AlertButtonDeps } from './buttons.js';
export { createAlertQueue, type AlertJob } from './alert-queue.js';

/** Where the Lease lives when the bot's namespace is unknown (not in a pod and POD_NAMESPACE unset). */
export const FALLBACK_LEASE_NAMESPACE = 'default';

export interface AlertsOptions {
  /** This replica's name in the Lease (default hostname-pid-random). */
  identity?: string;
  /** Default: botNamespace() (POD_NAMESPACE or the service account's), else FALLBACK_LEASE_NAMESPACE. */
  leaseNamespace?: string;
  /** Default `k8s-chatops-alerts` (plus the Redis prefix when it is not BullMQ's default). */
  leaseName?: string;
  leaseDurationMs?: number;
  retryPeriodMs?: number;
  limits?: { channel?: RateLimit; update?: RateLimit };
  /** See MonitorOptions. */
  maxAgeMs?: number;
  logLines?: number;
  backoffMs?: (attempt: number) => number;
  pageSize?: number;
  now?: () => number;
  /** The observed memory peak of an OOMKilled incident's container (see DeliveryDeps); absent: the raise goes by the limit. */
  observedPeak?: DeliveryDeps['observedPeak'];
  /** Memory charts on OOMKilled alerts (default true). */
  charts?: boolean;
  /** How often the leader samples metrics.k8s.io for the charts (default 30 s). */
  memorySampleIntervalMs?: number;
}

export interface AlertsDeps {
  config: Config;
  clusters: Pick<Clusters, 'forEnvironment' | 'all'>;
  /** The bot's client: delivery makes its own from its token and URL, one that does not pause on 429. */
  slack: WebClient;
  /** Producer connection: incident state and queue adds (fails fast while Redis is down). */
  redis: Redis;
  /** Blocking connection for the delivery worker. */
  connection: Redis;
  intents: IntentStore;
  /** Key prefix for our state and BullMQ's prefix. */
  prefix: string;
  /** Verifies signed alert jobs (Show logs). */
  signer: Signer;
  /** The `alerts` queue (shared with the buttons); created on `redis` if absent. */
  queue?: Queue<AlertJob>;
  log: Logger;
  /** Redis connection errors of the delivery worker go here (the process-wide outage summary), else to the log. */
  onConnectionError?: (err: Error) => void;
  options?: AlertsOptions;
}

export interface RunningAlerts {
  /** Stops watching and delivering; `release: false` leaves the Lease to expire (as a crash would). */
  stop(opts?: { release?: boolean }): Promise<void>;
  /** Names of the clusters this replica currently watches. */
  leading(): string[];
  /** Resolves when this replica watches every cluster with rules and has cached the initial lists. */
  whenWatching(): Promise<void>;
  /** Pods in the watch caches of this replica (0 when it does not lead). */
  watchedPods(): number;
}

function leaseNameFor(prefix: string): string {
  const name = prefix
    .replace(/[{}]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
  const suffix = name === 'k8s-chatops' ? '' : `-${name}`;
  return `k8s-chatops-alerts${suffix}`.slice(0, 63).replace(/-+$/, '');
}

export async function startAlerts(deps: AlertsDeps): Promise<RunningAlerts> {
  const o = deps.options ?? {};
  const log = deps.log;
  const byCluster = watchTargets(deps.config, (env) => deps.clusters.forEnvironment(env).name);
  const nodeRulesByCluster = nodeRules(deps.config, (env) => deps.clusters.forEnvironment(env).name);
  if (byCluster.size === 0) {
    log.info('no alert rules: not watching');
    return { stop: async () => {}, leading: () => [], whenWatching: async () => {}, watchedPods: () => 0 };
  }
  const queue = deps.queue ?? createAlertQueue(deps.redis, deps.prefix);
  const store = new IncidentStore(deps.redis, deps.prefix);
  const clusterByName = new Map<string, ClusterClient>(deps.clusters.all().map((c) => [c.name, c]));
  // Metered: a refused alert is sent again as plain text rather than lost.
  const slack = new MeteredWebClient(
    deps.slack.token ?? '',
    { slackApiUrl: deps.slack.slackApiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 2, minTimeout: 200, maxTimeout: 2_000 } },
    log,
  );
  const charts =
    o.charts === false
      ? undefined
      : setUpCharts({
          config: deps.config,
          redis: deps.redis,
          prefix: deps.prefix,
          log: log.child({ component: 'charts' }),
          ...(o.memorySampleIntervalMs ? { sampleIntervalMs: o.memorySampleIntervalMs } : {}),
        });
  const samplers = new Map<string, MemorySampler>();
  const delivery = startDelivery({
    queue,
    connection: deps.connection,
    prefix: deps.prefix,
    signer: deps.signer,
    audit: new AuditLog(deps.redis, deps.prefix, log.child({ component: 'audit' })),
    store,
    limiter: new RateLimiter(deps.redis, deps.prefix),
    slack,
    intents: deps.intents,
    cluster: (name) => clusterByName.get(name),
    log: log.child({ component: 'alert-delivery' }),
    ...(deps.onConnectionError ? { onConnectionError: deps.onConnectionError } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.logLines ? { logLines: o.logLines } : {}),
    config: deps.config,
    // The Raise memory limit button's peak: as given, else from the charts' data (Prometheus or the samples).
    ...(o.observedPeak
      ? { observedPeak: o.observedPeak }
      : charts
        ? { observedPeak: (s: IncidentState) => observedPeak(charts.deps, s) }
        : {}),
    ...(charts ? { charts: charts.deps } : {}),
  });

  const identity = o.identity ?? defaultIdentity();
  const namespace = o.leaseNamespace ?? botNamespace() ?? FALLBACK_LEASE_NAMESPACE;
  const watching = new Map<string, ClusterMonitor>();
  const synced = new Set<string>();
  let waiters: Array<() => void> = [];
  const notify = () => {
    if (synced.size < byCluster.size) return;
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  };

  const electors: LeaderElector[] = [];
  /** Pending retries of a monitor start that failed, per cluster. */
  const retries = new Map<string, NodeJS.Timeout>();
  for (const [clusterName, targets] of byCluster) {
    const cluster = clusterByName.get(clusterName);
    if (!cluster) continue;
    const clusterLog = log.child({ component: 'alert-watch', cluster: clusterName });

    /**
     * Watches the cluster while this replica leads it. Should the start fail
     * (the watches restart themselves, so that is unexpected) it is retried with
     * capped backoff for as long as we lead: a leader that only logged it would
     * leave the cluster without alerts until the leadership changed.
     */
    const startWatching = async (attempt: number): Promise<void> => {
      const monitor = new ClusterMonitor({
        cluster,
        targets,
        nodeRules: nodeRulesByCluster.get(clusterName) ?? [],
        store,
        enqueue: (id, isNew) => enqueueIncident(queue, id, isNew),
        log: clusterLog,
        ...(o.now ? { now: o.now } : {}),
        ...(o.maxAgeMs ? { maxAgeMs: o.maxAgeMs } : {}),
        ...(o.logLines ? { logLines: o.logLines } : {}),
        ...(o.backoffMs ? { backoffMs: o.backoffMs } : {}),
        ...(o.pageSize ? { pageSize: o.pageSize } : {}),
      });
      watching.set(clusterName, monitor);
      const started = Date.now();
      try {
        await monitor.start();
      } catch (err) {
        await monitor.stop().catch(() => {});
        if (watching.get(clusterName) !== monitor) return;
        const delay = (o.backoffMs ?? defaultBackoff)(attempt);
        clusterLog.error({ err, attempt: attempt + 1, retryInMs: delay }, 'could not start watching for alerts; trying again');
        retries.set(
          clusterName,
          setTimeout(() => {
            retries.delete(clusterName);
            if (watching.get(clusterName) === monitor) void startWatching(attempt + 1);
          }, delay),
        );
        return;
      }
      if (watching.get(clusterName) !== monitor) return;
      clusterLog.info(
        { namespaces: targets.map((t) => t.namespace), pods: monitor.podCount(), syncMs: Date.now() - started },
        'watching for alerts',
      );
      const sampler = charts?.sampler(cluster, targets);
      if (sampler) {
        samplers.set(clusterName, sampler);
        sampler.start();
      }
      synced.add(clusterName);
      notify();
    };

    electors.push(
      new LeaderElector({
        cluster,
        namespace,
        name: o.leaseName ?? leaseNameFor(deps.prefix),
        identity,
        ...(o.leaseDurationMs ? { leaseDurationMs: o.leaseDurationMs } : {}),
        ...(o.retryPeriodMs ? { retryPeriodMs: o.retryPeriodMs } : {}),
        ...(o.now ? { now: o.now } : {}),
        log: clusterLog,
        onStartedLeading: () => startWatching(0),
        onStoppedLeading: async () => {
          clearTimeout(retries.get(clusterName));
          retries.delete(clusterName);
          const monitor = watching.get(clusterName);
          watching.delete(clusterName);
          synced.delete(clusterName);
          const sampler = samplers.get(clusterName);
          samplers.delete(clusterName);
          await Promise.all([monitor?.stop(), sampler?.stop()]);
        },
      }),
    );
  }
  electors.forEach((e) => e.start());
  log.info({ identity, leaseNamespace: namespace, clusters: [...byCluster.keys()] }, 'alerts role started');

  return {
    async stop(opts = {}) {
      await Promise.all(electors.map((e) => e.stop(opts)));
      await Promise.all([...samplers.values()].map((s) => s.stop()));
      await delivery.close();
      if (!deps.queue) await queue.close();
    },
    leading: () => [...watching.keys()],
    watchedPods: () => [...watching.values()].reduce((n, m) => n + m.podCount(), 0),
    whenWatching: () => (synced.size >= byCluster.size ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
