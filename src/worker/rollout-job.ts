import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import { diagnoseApp } from '../kube/diagnose.js';
import { followRollout } from '../kube/follow-rollout.js';
import { LABEL_APP } from '../kube/render.js';
import { diagnosisMessage, jobFailed, jobStarted, jobSucceeded, rolloutStep } from '../slack/messages.js';

export interface RolloutJob {
  /** e.g. "deploy myapp 1.4.2 → beta" */
  title: string;
  env: ResolvedEnvironment;
  app: string;
  /** Makes the change (idempotent: a retry applies the same state); returns the thread's "applied" line. */
  change(): Promise<string>;
  /** Upper bound for following the rollout (the Deployment's own progress deadline normally ends it first). */
  timeoutMs: number;
}

/**
 * The shape every rolling change shares: start the thread, make the change,
 * follow the rollout with a watch, and end with ✅ or ❌ and the diagnosis.
 */
export async function runRolloutJob(ctx: WorkerVerbContext<unknown>, job: RolloutJob): Promise<'succeeded' | 'failed'> {
  const started = Date.now();
  const requester = ctx.request.userId;
  await ctx.progress.start(jobStarted(job.title, requester));
  const applied = await job.change();
  await ctx.progress.step(`:white_check_mark: ${applied}`);

  const final = await followRollout({
    cluster: job.env.cluster,
    namespace: job.env.namespace,
    name: job.app,
    signal: ctx.signal,
    timeoutMs: job.timeoutMs,
    onChange: async (state) => {
      if (state.phase === 'progressing') await ctx.progress.step(rolloutStep(state));
    },
  });

  if (final.phase === 'done') {
    await ctx.progress.finish('succeeded', jobSucceeded(job.title, requester, Date.now() - started, final.message));
    ctx.log.info({ title: job.title, ms: Date.now() - started }, 'rollout succeeded');
    return 'succeeded';
  }
  const diagnosis = await diagnoseApp(job.env.cluster, job.env.namespace, `${LABEL_APP}=${job.app}`).catch((err) => {
    ctx.log.warn({ err: String(err) }, 'diagnosis failed');
    return undefined;
  });
  const reason = diagnosis ? diagnosis.problem.summary : final.message;
  await ctx.progress.finish('failed', jobFailed(job.title, requester, Date.now() - started, reason), diagnosisMessage(diagnosis, final.message));
  ctx.log.warn({ title: job.title, reason }, 'rollout failed');
  return 'failed';
}
