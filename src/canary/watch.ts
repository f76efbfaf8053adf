/**
 * Keeps every running canary watched, in the worker role: its pods (stable vs
 * canary, by the one pod classifier), its live message (chat.update only when
 * something changed, and not more often than `minUpdateMs`), and the auto-abort.
 * Everything it needs is in Redis and the cluster, so a restarted bot resumes
 * where the old one was; with several workers, one takes each canary per tick.
 */
import type { WebClient } from '@slack/web-api';
import type { Queue } from 'bullmq';
import type { Config } from '../config/schema.js';
import type { Services } from '../command/services.js';
import type { Clusters } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import { environmentOf } from '../config/lookup.js';
import { canaryVerdict, listTrackPods, trackStats } from '../kube/canary.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { enqueueCommand, requestIdFrom, type CommandJobData } from '../queue/commands.js';
import { canaryMessage } from '../slack/views/canary.js';
import { canaryStore, viewOf } from './lifecycle.js';
import type { CanaryRecord } from './store.js';

export interface CanaryWatchDeps {
  config: Config;
  clusters: Clusters;
  slack: WebClient;
  services: Services;
  log: Logger;
  intervalMs: number;
  now?: () => number;
}

export interface CanaryWatch {
  /** One pass over every running canary (what the timer runs). */
  tick(): Promise<void>;
  stop(): void;
}

export function startCanaryWatch(deps: CanaryWatchDeps): CanaryWatch {
  const store = canaryStore(deps.services);
  const now = deps.now ?? Date.now;
  const minUpdateMs = Math.max(deps.intervalMs, 1_500);
  let running = false;

  async function check(rec: CanaryRecord): Promise<void> {
    const env = environmentOf(deps.config, rec.env);
    if (!env) return;
    const cluster = deps.clusters.forEnvironment(rec.env);
    const stable = (await deploymentOps.readIfExists(cluster, rec.namespace, rec.stable)) as V1Deployment | undefined;
    if (!stable) return;
    const pods = await listTrackPods(cluster, stable);
    const stats = { stable: trackStats(pods.stable), canary: trackStats(pods.canary) };
    const at = now();
    const gone = !(await deploymentOps.readIfExists(cluster, rec.namespace, rec.canary));
    // Gone because the canary just ended (its record went first) is no problem.
    if (gone && (await store.get(rec.env, rec.app))?.id !== rec.id) return;
    const verdict = gone ? `deployment ${rec.canary} was deleted outside the bot` : canaryVerdict(stats.canary, rec, at);
    if (verdict && (await store.markAutoAbort(rec.env, rec.app, rec.id))) {
      deps.log.warn({ env: rec.env, app: rec.app, reason: verdict }, 'aborting a failing canary');
      const data: CommandJobData = {
        verb: 'abort',
        // Within the abort verb's bound on `auto`, or the job would be refused and the canary left running.
        args: { app: rec.app, env: rec.env, auto: verdict.slice(0, 480), canary: rec.id },
        request: {
          requestId: requestIdFrom(['canary-auto-abort', rec.id]),
          text: `abort ${rec.app} ${rec.env}`,
          userId: rec.userId,
          ...(rec.userName ? { userName: rec.userName } : {}),
          channelId: rec.channelId,
          ...(rec.threadTs ? { threadTs: rec.threadTs } : {}),
          receivedAt: at,
        },
      };
      await enqueueCommand(deps.services.queue as Queue<CommandJobData>, deps.services.signer, data);
    }
    if (!rec.messageTs) return;
    const message = canaryMessage(viewOf(rec), stats, at);
    // What changed, without the "Updated hh:mm:ss" line.
    const key = JSON.stringify([rec.step, rec.canaryReplicas, stats]);
    const last = await store.lastView(rec.env, rec.app);
    if (last?.key === key || (last && at - last.at < minUpdateMs)) return;
    await deps.slack.chat.update({ channel: rec.channelId, ts: rec.messageTs, text: message.text, blocks: message.blocks ?? [] });
    await store.saveView(rec.env, rec.app, { key, at });
    // Ended while this check ran: the final message may have landed before ours; put it back.
    if ((await store.get(rec.env, rec.app))?.id !== rec.id) {
      const ended = await store.ended(rec.id);
      if (ended)
        await deps.slack.chat.update({
          channel: rec.channelId,
          ts: rec.messageTs,
          text: ended.text,
          blocks: ended.blocks ?? [],
        });
    }
  }

  async function tick(): Promise<void> {
    if (running) return;
    running = true;
    try {
      for (const { env, app } of await store.list()) {
        try {
          if (!(await store.claimTick(env, app, Math.floor(deps.intervalMs * 0.8)))) continue;
          const rec = await store.get(env, app);
          if (rec) await check(rec);
        } catch (err) {
          deps.log.warn({ env, app, err }, 'could not check a canary');
        }
      }
    } catch (err) {
      deps.log.warn({ err }, 'could not list running canaries');
    } finally {
      running = false;
    }
  }

  const timer = setInterval(() => void tick(), deps.intervalMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
