import { VersionApi } from '@kubernetes/client-node';
import { MeteredWebClient } from './slack/client.js';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { ApprovalStore } from './approvals/store.js';
import { APPROVAL_EXPIRY_QUEUE, startExpiryWorker } from './approvals/gate.js';
import { registerApprovalButtons } from './approvals/buttons.js';
import type { App } from '@slack/bolt';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Settings } from './config/settings.js';
import { loadVerbs } from './command/registry.js';
import { Clusters } from './kube/clusters.js';
import { checkPermissions, missingPermissions, unreachableClusters } from './kube/permission-check.js';
import { watchRedisOutage } from './queue/outage.js';
import { selfHealingQueue } from './queue/self-healing-queue.js';
import type { Logger } from './log.js';
import { createCommandQueue, type CommandJobData } from './queue/commands.js';
import type { Services } from './command/services.js';
import { AuditLog } from './audit/index.js';
import { IntentStore } from './command/intents.js';
import { TargetLocks, targetLeaseMs } from './queue/target-lock.js';
import { CommandJobs } from './queue/command-jobs.js';
import { createRedis, redisAnswers } from './queue/redis.js';
import { evictionWarning, watchEvictionPolicy } from './queue/eviction.js';
import { Signer } from './security/signing.js';
import { allowResponseUrlHosts } from './slack/respond.js';
import { startSlackApp, type RunningSlackApp } from './slack/app.js';
import { handleSlashCommand, type IntakeDeps } from './command/intake.js';
import { registerIntentButtons } from './command/intent-buttons.js';
import { SlackMembership } from './slack/usergroups.js';
import { healthRoutes, routeHandler, type ReadinessCheck } from './server/health.js';
import { queueJobs } from './server/metrics.js';
import { startCommandWorker, type RunningWorker } from './worker/index.js';
import { startCanaryWatch } from './canary/watch.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatOps {
  config: Config;
  /** HTTP port actually bound (Slack events in HTTP mode; health and metrics always). */
  port: number;
  queue: Queue<CommandJobData>;
  services: Services;
  /** The producer connection (fails fast while Redis is down). */
  redis: Redis;
  stop(): Promise<void>;
}

/** Caches a check's answer briefly so probes don't hammer Slack or the API servers. */
function cachedCheck(name: string, ttlMs: number, check: () => Promise<boolean>): ReadinessCheck {
  let cached: { ok: boolean; until: number } | undefined;
  return {
    name,
    async check() {
      if (cached && cached.until > Date.now()) return cached.ok;
      const ok = await check().catch(() => false);
      cached = { ok, until: Date.now() + ttlMs };
      return ok;
    },
  };
}

/** Starts the roles in `settings.roles` in this process. */
export async function startChatOps(settings: Settings, log: Logger): Promise<ChatOps> {
  const config = await loadConfig(settings.configFile);
  const verbs = await loadVerbs();
  const prefix = settings.queuePrefix;
  const roles = new Set(settings.roles);
  const needsCluster = roles.has('worker') || roles.has('alerts');
  const clusters = needsCluster ? new Clusters(config, settings.configFile) : undefined;

  const slack = new MeteredWebClient(
    settings.botToken,
    {
      ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
      retryConfig: { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 30_000 },
    },
    log,
  );
  // Membership is looked up before the ack: fail fast (the stale cache covers a Slack hiccup).
  const members = new SlackMembership(
    new MeteredWebClient(settings.botToken, {
      ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 1_500,
    }),
  );
  // response_url comes from Slack payloads (and from Redis, in jobs): post only to Slack's hooks host or the configured API's host.
  allowResponseUrlHosts(settings.apiUrl);
  const signer = new Signer({
    current: settings.signingKey,
    ...(settings.signingKeyPrevious ? { previous: settings.signingKeyPrevious } : {}),
  });
  const producer = createRedis(settings.redis, 'producer');
  // BullMQ loses jobs under any eviction policy but noeviction: say so loudly, at start and in /readyz.
  const eviction = watchEvictionPolicy(producer, log.child({ component: 'redis' }));
  const queue = createCommandQueue(producer, prefix);
  // While Redis is down: one warning, then a summary every 30 s (not a line per reconnect).
  const outage = watchRedisOutage(producer, settings.redisUrl, log);
  queue.on('error', outage.error('queue connection'));
  const keyPrefix = prefix;
  const locks = new TargetLocks(producer, keyPrefix, targetLeaseMs(settings.jobLockMs));
  const services: Services = {
    queue,
    audit: new AuditLog(producer, keyPrefix, log.child({ component: 'audit' })),
    intents: new IntentStore(producer, keyPrefix, signer),
    slack,
    approvals: new ApprovalStore(producer, keyPrefix, signer),
    redis: producer,
    prefix: keyPrefix,
    signer,
    locks,
    jobs: new CommandJobs(queue, locks),
  };
  const expiryQueue = selfHealingQueue(
    producer,
    () => new Queue(APPROVAL_EXPIRY_QUEUE, { connection: producer, prefix, skipWaitingForReady: true }),
  );
  expiryQueue.on('error', () => undefined);

  const readiness: ReadinessCheck[] = [
    { name: 'redis', check: () => redisAnswers(producer) },
    cachedCheck('slack', 60_000, async () => (await slack.auth.test()).ok),
    ...(clusters
      ?.all()
      .map((c) => cachedCheck(`cluster:${c.name}`, 10_000, async () => Boolean(await c.kubeConfig.makeApiClient(VersionApi).getCode()))) ??
      []),
  ];
  const routes = healthRoutes({
    readiness,
    beforeScrape: async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
      for (const [state, count] of Object.entries(counts)) queueJobs.set({ state }, count);
    },
    details: async () => {
      const policy = producer.status === 'ready' ? await eviction.refresh() : eviction.current();
      const warning = evictionWarning(policy);
      return { redis: { maxmemoryPolicy: policy, ...(warning ? { warning } : {}) } };
    },
  });

  if (clusters) {
    // "Why does deploy fail in prod?" answered in the log at start-up; never blocks start-up.
    void checkPermissions(clusters, config)
      .then((reports) => {
        for (const sentence of unreachableClusters(reports)) log.warn(sentence);
        for (const missing of missingPermissions(reports))
          log.warn({ missing }, 'the bot lacks a Kubernetes permission it needs (run `npm run check`)');
      })
      .catch((err: unknown) => log.warn({ err }, 'could not check Kubernetes permissions'));
  }

  const stoppers: Array<() => Promise<void>> = [];
  const connections: Redis[] = [producer];
  /** Button handlers of other concerns (approvals, alerts), registered on the Slack app. */
  const buttonRegistrars: Array<(app: App) => void> = [];

  // --- alerts role wiring (src/alerts) ---
  if (config.alerts.length > 0 && (roles.has('app') || (roles.has('alerts') && clusters))) {
    // Loaded only when alert rules exist.
    const alerts = await import('./alerts/index.js');
    const alertQueue = alerts.createAlertQueue(producer, keyPrefix);
    alertQueue.on('error', outage.error('alert queue connection'));
    // The buttons only need Redis: an app-only replica queues their work for the alerts role.
    if (roles.has('app'))
      buttonRegistrars.push((app) =>
        alerts.registerAlertButtons(app, {
          redis: producer,
          prefix: keyPrefix,
          signer,
          queue: alertQueue,
          config,
          verbs,
          members,
          log: log.child({ role: 'app' }),
        }),
      );
    let running: Awaited<ReturnType<typeof alerts.startAlerts>> | undefined;
    if (roles.has('alerts') && clusters) {
      const connection = createRedis(settings.redis, 'worker');
      connections.push(connection);
      running = await alerts.startAlerts({
        config,
        clusters,
        slack,
        redis: producer,
        connection,
        intents: services.intents,
        prefix: keyPrefix,
        signer,
        queue: alertQueue,
        log: log.child({ role: 'alerts' }),
        onConnectionError: outage.error('alert delivery worker'),
        options: { leaseDurationMs: settings.leaderLeaseMs },
      });
    }
    stoppers.push(async () => {
      await running?.stop();
      await alertQueue.close();
    });
  }
  // --- end alerts role wiring ---
  let worker: RunningWorker | undefined;
  if (roles.has('worker') && clusters) {
    const connection = createRedis(settings.redis, 'worker');
    connections.push(connection);
    worker = startCommandWorker({
      config,
      verbs,
      clusters,
      slack,
      members,
      services,
      expiryQueue,
      jobLockMs: settings.jobLockMs,
      log: log.child({ role: 'worker' }),
      onConnectionError: outage.error('worker connection'),
      connection,
      prefix,
    });
    stoppers.push(() => worker!.close(settings.shutdownGraceMs));
    // Running canaries: pods, live message, auto-abort; resumed from Redis after a restart.
    const canaries = startCanaryWatch({
      config,
      clusters,
      slack,
      services,
      intervalMs: settings.canaryWatchMs,
      log: log.child({ role: 'worker', component: 'canary' }),
    });
    stoppers.push(async () => canaries.stop());
    const expiryConnection = createRedis(settings.redis, 'worker');
    connections.push(expiryConnection);
    const expiryWorker = startExpiryWorker({
      connection: expiryConnection,
      prefix,
      store: services.approvals,
      slack,
      services,
      log: log.child({ role: 'worker' }),
      config,
      onConnectionError: outage.error('approval expiry worker'),
    });
    stoppers.push(() => expiryWorker.close());
  }
  if (roles.has('app')) {
    buttonRegistrars.push((app) =>
      registerApprovalButtons(app, { config, verbs, store: services.approvals, members, services, slack, log: log.child({ role: 'app' }) }),
    );
  }

  let port = settings.port;
  let slackApp: RunningSlackApp | undefined;
  if (roles.has('app')) {
    const intake: IntakeDeps = { config, verbs, members, log: log.child({ role: 'app' }), services };
    // Command intents first: the same order the listeners had before.
    buttonRegistrars.unshift((app) => registerIntentButtons(app, intake));
    slackApp = await startSlackApp({
      botToken: settings.botToken,
      signingSecret: settings.signingSecret,
      ...(settings.appToken ? { appToken: settings.appToken } : {}),
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      port: settings.port,
      routes,
      log: log.child({ role: 'app' }),
      onCommand: (command) => handleSlashCommand(intake, command),
      register: (app) => buttonRegistrars.forEach((register) => register(app)),
    });
    port = slackApp.port;
    stoppers.unshift(() => slackApp!.stop()); // stop taking commands first
  } else {
    // Worker- or alerts-only processes still serve health and metrics.
    const server: Server = createServer(routeHandler(routes));
    await new Promise<void>((resolve) => server.listen(settings.port, resolve));
    port = (server.address() as AddressInfo).port;
    stoppers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
  }

  log.info(
    { roles: [...roles], port, socketMode: Boolean(settings.appToken), environments: Object.keys(config.environments) },
    'k8s-chatops started',
  );
  return {
    config,
    port,
    queue,
    services,
    redis: producer,
    async stop() {
      for (const stop of stoppers) await stop().catch((err: unknown) => log.warn({ err }, 'error while stopping'));
      await queue.close().catch(() => undefined);
      await expiryQueue.close().catch(() => undefined);
      for (const c of connections) c.disconnect();
      outage.stop();
    },
  };
}
