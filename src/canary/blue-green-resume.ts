/**
 * A blue/green switch resumed after a crash before its selector patch landed: while no bot ran, the new
 * colour's pods may have gone (crash-looping, evicted, node lost), so they are checked again before the
 * Service moves, and the release ends as a first run whose new colour never became ready if they are not.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import { followRollout } from '../kube/follow-rollout.js';
import type { RolloutState } from '../kube/rollout.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import { escapeMrkdwn } from '../slack/blocks.js';
import { jobFailed, rolloutStep } from '../slack/views/job-thread.js';
import type { BlueGreenRecord } from './store.js';

/** Follows the new colour's rollout again: at once `done` while it is complete and ready. */
export async function readyAgain(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: BlueGreenRecord,
  timeoutMs: number,
): Promise<RolloutState> {
  const live = (await deploymentOps.readIfExists(env.cluster, env.namespace, rec.live)) as V1Deployment | undefined;
  if (!live) return { phase: 'failed', message: `deployment ${rec.live} is gone` };
  // "0 of 0 replicas available" is complete for Kubernetes, and no pod to serve for the Service.
  if (live.spec?.replicas === 0) return { phase: 'failed', message: `deployment ${rec.live} is scaled to 0` };
  // A Deployment that completed once keeps Progressing=NewReplicaSetAvailable when its pods fail later: the cluster
  // never declares its progress deadline then, so the bot holds the rollout to it (within the job's timeout).
  const deadlineMs = (live.spec?.progressDeadlineSeconds ?? 600) * 1_000;
  return followRollout({
    cluster: env.cluster,
    namespace: env.namespace,
    name: rec.live,
    signal: ctx.signal,
    timeoutMs: Math.min(timeoutMs, deadlineMs),
    onChange: async (state) => {
      if (state.phase === 'progressing') await ctx.progress.step(rolloutStep({ ...state, message: escapeMrkdwn(state.message) }));
    },
  });
}

/**
 * The Service never moved: the new colour is scaled to 0, `forget` drops the release's record, and the thread
 * ends with ❌ — the same end as a first run whose new colour never became ready.
 */
export async function notReadyAgain(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: BlueGreenRecord,
  end: { title: string; started: number; state: RolloutState; forget: () => Promise<void> },
): Promise<'failed'> {
  const exists = await deploymentOps.readIfExists(env.cluster, env.namespace, rec.live);
  if (exists) await deploymentOps.scale!(env.cluster, env.namespace, rec.live, 0);
  await end.forget();
  const reason = `${rec.live} was not ready after the restart (${end.state.message}); Service ${rec.service} stays on ${rec.old}${exists ? ` and ${rec.live} was scaled to 0` : ''}`;
  await ctx.progress.finish('failed', jobFailed(end.title, ctx.request.userId, Date.now() - end.started, reason));
  ctx.log.warn({ app: rec.app, env: rec.env, reason: end.state.message }, 'blue/green switch abandoned after a restart');
  return 'failed';
}
