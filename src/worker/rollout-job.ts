import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import { diagnoseApp, latestCreateRefusal } from '../kube/diagnose.js';
import { followRollout } from '../kube/follow-rollout.js';
import { watchCreateRefusals, watchPodProblems } from '../kube/pod-warnings.js';
import { refusedPods } from '../kube/rollout.js';
import { LABEL_APP } from '../kube/render.js';
import { workloadOps } from '../kube/workloads/kinds.js';
import type { WorkloadKind } from '../kube/workloads/types.js';
import { describeRevision } from '../kube/rollback.js';
import { actions, context, escapeMrkdwn, type SlackMessage } from '../slack/blocks.js';
import { RUN_INTENT_ACTION } from '../command/intents.js';
import {
  diagnosisMessage,
  jobFailed,
  jobStarted,
  jobSucceeded,
  MILESTONE,
  refusedPodsMessage,
  rolloutStep,
} from '../slack/views/job-thread.js';

export interface RolloutJob {
  /** e.g. "deploy myapp 1.4.2 → beta" */
  title: string;
  env: ResolvedEnvironment;
  app: string;
  /** The workload to follow; default the Deployment named after the app, its pods labelled with the app. */
  workload?: { kind: WorkloadKind; name: string; selector: string };
  /** Makes the change (idempotent: a retry applies the same state); returns the thread's "applied" line. */
  change(): Promise<string>;
  /** Upper bound for following the rollout (the Deployment's own progress deadline normally ends it first). */
  timeoutMs: number;
  /**
   * When the rollout fails, offer a Rollback button in the thread (default true:
   * a new version that does not come up is what rollback is for). Verbs whose
   * change a rollback would not undo — scale, config, restart, rollback itself — pass false.
   */
  offerRollback?: boolean;
  /** Runs once the rollout is done, before the ✅ (e.g. switching a Service to it); its message goes in the thread. */
  onDone?: () => Promise<SlackMessage | undefined>;
  /**
   * Runs once the rollout has ended either way, right before the ✅/❌ (`reason`: the rollout's last state, or why it
   * failed, plain text). The ✅/❌ records the job's end, so a copy of the job never runs what comes after it: a verb's
   * own bookkeeping that must not be lost to a worker stopped in between goes here.
   */
  beforeEnd?: (end: { outcome: 'succeeded' | 'failed'; reason: string }) => Promise<void>;
}

/**
 * The shape every rolling change shares: start the thread, make the change,
 * follow the rollout with a watch, and end with ✅ or ❌ and the diagnosis
 * (milestones on the way use the neutral MILESTONE marker).
 */
export async function runRolloutJob(ctx: WorkerVerbContext<unknown>, job: RolloutJob): Promise<'succeeded' | 'failed'> {
  // A dry run only makes the change (its writes are recorded dry runs): no thread, nothing to follow.
  if (ctx.dryRun) {
    await job.change();
    return 'succeeded';
  }
  const started = Date.now();
  const workload = job.workload ?? { kind: 'Deployment' as const, name: job.app, selector: `${LABEL_APP}=${job.app}` };
  const requester = ctx.request.userId;
  await ctx.progress.start(jobStarted(job.title, requester));
  const applied = await job.change();
  // A milestone, not the outcome: ✅ is kept for the end, so nobody skimming the thread reads "applied" as "done".
  await ctx.progress.step(`${MILESTONE} ${applied}`);

  const warnings = await watchPodProblems(job.env.cluster, job.env.namespace, workload.selector, (problem) => {
    const detail =
      problem.kind === 'Unschedulable'
        ? (problem.message ?? '')
        : problem.kind === 'ImagePullBackOff'
          ? (problem.message ?? problem.image ?? '')
          : '';
    void ctx.progress.step(
      `:warning: pod \`${escapeMrkdwn(problem.pod)}\`: ${escapeMrkdwn(problem.summary)}${detail ? ` — ${escapeMrkdwn(detail)}` : ''}. Still waiting for the rollout (it fails at its progress deadline).`,
    );
  });
  // A StatefulSet or DaemonSet has no ReplicaFailure condition: its FailedCreate events end the follow instead.
  const refusedEarly = new AbortController();
  const refusals =
    workload.kind === 'Deployment'
      ? undefined
      : await watchCreateRefusals(job.env.cluster, job.env.namespace, workload, started - 1000, (message) =>
          refusedEarly.abort(refusedPods(message)),
        );
  const final = await followRollout({
    cluster: job.env.cluster,
    namespace: job.env.namespace,
    name: workload.name,
    kind: workload.kind,
    signal: ctx.signal,
    stopWith: refusedEarly.signal,
    timeoutMs: job.timeoutMs,
    onChange: async (state) => {
      if (state.phase === 'progressing') await ctx.progress.step(rolloutStep(state));
    },
  }).finally(() => {
    warnings.stop();
    refusals?.stop();
  });

  if (final.phase === 'done') {
    // The thread's last progress line must not contradict the ✅ ("0 of 3 available", then done).
    await ctx.progress.step(`${MILESTONE} ${final.message}`);
    const done = await job.onDone?.();
    await job.beforeEnd?.({ outcome: 'succeeded', reason: final.message });
    // The change succeeded: a Slack failure while saying so must not turn it into a failed job.
    await ctx.progress
      .finish('succeeded', jobSucceeded(job.title, requester, Date.now() - started, final.message), done)
      .catch((err: unknown) => {
        ctx.log.warn({ err }, 'could not report a successful rollout to Slack');
      });
    ctx.log.info({ title: job.title, ms: Date.now() - started }, 'rollout succeeded');
    return 'succeeded';
  }
  // Pods refused at creation (ReplicaFailure, FailedCreate) come before any pod's problem: there may be no new pod at all.
  const refused = final.phase === 'failed' ? final.podsRefused : undefined;
  const diagnosis = refused
    ? undefined
    : await diagnoseApp(job.env.cluster, job.env.namespace, workload.selector).catch((err: unknown) => {
        ctx.log.warn({ err }, 'diagnosis failed');
        return undefined;
      });
  const refusal =
    refused ??
    (diagnosis ? undefined : await latestCreateRefusal(job.env.cluster, job.env.namespace, workload.kind, workload.name, started - 1000));
  const reason = refusal ? 'the cluster refuses to create its pods' : diagnosis ? diagnosis.problem.summary : final.message;
  const details = refusal ? refusedPodsMessage(refusal, job.env.namespace) : diagnosisMessage(diagnosis, final.message);
  const offer = job.offerRollback === false ? undefined : await rollbackOffer(ctx, job, workload);
  await job.beforeEnd?.({ outcome: 'failed', reason });
  await ctx.progress.finish(
    'failed',
    jobFailed(job.title, requester, Date.now() - started, reason),
    offer ? withBlocks(details, offer) : details,
  );
  ctx.log.warn({ title: job.title, reason }, 'rollout failed');
  return 'failed';
}

function withBlocks(message: SlackMessage, blocks: NonNullable<SlackMessage['blocks']>): SlackMessage {
  return { ...message, blocks: [...(message.blocks ?? []), ...blocks] };
}

/**
 * A Rollback button for a failed rollout, when there is a revision to go back
 * to. The button runs `rollback <app> <env> <revision>` as the clicker, in this
 * thread. The revision is pinned: once rolled back to, that revision gets a new
 * number, so a second click (or a second person) is refused instead of rolling
 * "back" to the failed version.
 */
async function rollbackOffer(
  ctx: WorkerVerbContext<unknown>,
  job: RolloutJob,
  workload: { kind: WorkloadKind; name: string },
): Promise<SlackMessage['blocks']> {
  try {
    const { cluster, namespace, name: envName } = job.env;
    const ops = workloadOps(workload.kind);
    const live = await ops.read(cluster, namespace, workload.name);
    const plan = (await ops.history(cluster, live)).plan();
    if (plan.kind !== 'rollback') return undefined;
    const threadTs = ctx.request.threadTs ?? ctx.progress.threadTs;
    const id = await ctx.services.intents.create({
      text: `rollback ${job.app} ${envName} ${plan.to.revision}`,
      channelId: ctx.request.channelId,
      ...(threadTs ? { threadTs } : {}),
    });
    return [
      actions('rollback', [{ text: 'Rollback', actionId: RUN_INTENT_ACTION, value: id, style: 'primary' }]),
      context(
        `:leftwards_arrow_with_hook: *Rollback* puts ${job.app} in ${envName} back to revision ${describeRevision(plan.to)}, as \`kubectl rollout undo\` does, and reports here.`,
      ),
    ];
  } catch (err) {
    // Paused, no earlier revision, or the cluster could not tell: the failure report goes out without the button.
    ctx.log.info({ err }, 'no rollback offered');
    return undefined;
  }
}
