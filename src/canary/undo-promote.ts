/**
 * A full promote that did not finish leaves the stable Deployment on the canary's
 * version. Abort then undoes it: the stable goes back to the revision it had when
 * the promote began, as `kubectl rollout undo --to-revision` does (its ReplicaSet's
 * pod template copied back), so the app runs exactly what it ran before the canary.
 * That rollout is followed like a deploy's: ✅ once every pod of the restored
 * revision is ready, ❌ with the diagnosis when it fails or times out.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import { isChatOpsError } from '../errors/index.js';
import { stablePodSelector } from '../kube/canary.js';
import { FIELD_MANAGER_ROLLBACK } from '../kube/deployments.js';
import { ANNOTATION_REQUEST_ID, requestAnnotations } from '../kube/render.js';
import { ANNOTATION_REVISION, describeRevision } from '../kube/rollback.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import { escapeMrkdwn } from '../slack/blocks.js';
import { runRolloutJob } from '../worker/rollout-job.js';
import type { CanaryRecord } from './store.js';

/** The stable's revision now, to keep in the record before a full promote writes it. */
export function revisionNow(stable: V1Deployment): number | undefined {
  const raw = stable.metadata?.annotations?.[ANNOTATION_REVISION];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** What abort does about a full promote that moved the stable. */
export type UndoPromote =
  /** Nothing rolls out (the Deployment is gone, already back and settled, or the rollback failed): what to say. */
  | { kind: 'said'; text: string }
  /** The stable was rolled back (or is still coming back): its rollout is to be followed. `applied` is the thread's line. */
  | { kind: 'restoring'; live: V1Deployment; target: string; applied: string };

export interface RestoreOutcome {
  outcome: 'succeeded' | 'failed';
  /** For the audit entry: where the stable ended up. */
  detail: string;
}

/** Abort never waits for approval (it only restores what ran before): the thread says so where it says what was changed. */
const NO_APPROVAL = 'no approval asked: abort only restores what ran before';

/**
 * Rolls the stable back to `rec.promotedFrom` when a full promote moved it (undefined: nothing to undo).
 * A failure is said, not thrown: the canary is removed all the same.
 */
export async function undoPromote(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: CanaryRecord,
): Promise<UndoPromote | undefined> {
  if (rec.promotedFrom === undefined) return undefined;
  const said = (text: string): UndoPromote => ({ kind: 'said', text });
  try {
    const live = (await deploymentOps.readIfExists(env.cluster, env.namespace, rec.stable)) as V1Deployment | undefined;
    if (!live) return said(`deployment ${rec.stable} is gone, so there is no promote to undo`);
    if (!ctx.dryRun && live.metadata?.annotations?.[ANNOTATION_REQUEST_ID] === ctx.request.requestId) {
      // This abort rolled it back before its worker stopped (the revision is renumbered by now): follow it again.
      const images = (live.spec?.template.spec?.containers ?? []).map((c) => c.image ?? '?').join(', ');
      const target = `${rec.promotedFrom} (${images})`;
      return {
        kind: 'restoring',
        live,
        target,
        applied: `${rec.stable} already rolled back to revision ${escapeMrkdwn(target)} by this abort`,
      };
    }
    const history = await deploymentOps.history(env.cluster, live);
    const plan = history.plan(rec.promotedFrom);
    const target = describeRevision(plan.to);
    if (plan.kind === 'current') {
      const settled = deploymentOps.rolloutState(live).phase === 'done';
      if (settled || ctx.dryRun) return said(`${rec.stable} already runs revision ${escapeMrkdwn(target)}, as before the promote`);
      return {
        kind: 'restoring',
        live,
        target,
        applied: `${rec.stable} already runs revision ${escapeMrkdwn(target)}, as before the promote`,
      };
    }
    const { body, strategy } = history.rollbackPatch(
      plan.to,
      requestAnnotations(ctx.request, `abort ${rec.app} ${rec.env}: undo promote, back to revision ${plan.to.revision}`),
    );
    await deploymentOps.patch(env.cluster, env.namespace, rec.stable, body, strategy, FIELD_MANAGER_ROLLBACK, { dryRun: ctx.dryRun });
    const applied = `${rec.stable} rolled back from revision ${plan.from?.revision ?? '?'} to revision ${escapeMrkdwn(target)}, what it ran before the promote`;
    return ctx.dryRun ? said(applied) : { kind: 'restoring', live, target, applied };
  } catch (err) {
    if (!isChatOpsError(err) || ctx.dryRun) throw err;
    ctx.log.warn({ err }, 'could not undo the promote');
    return said(
      `:warning: ${rec.stable} could NOT be rolled back to revision ${rec.promotedFrom}, what it ran before the promote: ${err.userMessage} \`/k8s history ${rec.app} ${rec.env}\` lists its revisions and \`/k8s rollback ${rec.app} ${rec.env} <revision>\` rolls it back`,
    );
  }
}

/**
 * Follows the stable's rollout back to its revision before the promote, in the abort's thread. `end` runs before
 * the ✅/❌ (the canary's own end: its Deployment, record and hold), with what the canary's thread is to say about
 * the stable. The outcome is the restore's: a stable that does not come back healthy fails the abort (and its audit).
 */
export async function followRestore(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: CanaryRecord,
  undo: Extract<UndoPromote, { kind: 'restoring' }>,
  end: (said: string) => Promise<void>,
): Promise<RestoreOutcome> {
  let detail = '';
  const target = escapeMrkdwn(undo.target);
  const outcome = await runRolloutJob(ctx, {
    title: `abort canary ${rec.app} ${rec.version} in ${rec.env}: ${rec.stable} back to revision ${rec.promotedFrom ?? '?'}`,
    env,
    app: rec.app,
    workload: { kind: 'Deployment', name: rec.stable, selector: stablePodSelector(undo.live) },
    timeoutMs: ((undo.live.spec?.progressDeadlineSeconds ?? 600) + 60) * 1_000,
    // Rolling back a failed restore would only go back to the version the promote could not roll out.
    offerRollback: false,
    change: () => Promise.resolve(`${undo.applied} (${NO_APPROVAL}); following its rollout`),
    beforeEnd: async ({ outcome, reason }) => {
      detail =
        outcome === 'succeeded'
          ? `${rec.stable} back on revision ${undo.target}: ${reason}`
          : `${rec.stable} rolled back to revision ${undo.target}, but its rollout failed: ${reason}`;
      await end(
        outcome === 'succeeded'
          ? `${rec.stable} is back on revision ${target}, what it ran before the promote: ${escapeMrkdwn(reason)}`
          : `${rec.stable} was rolled back to revision ${target}, what it ran before the promote, but that rollout failed: ${escapeMrkdwn(reason)}. The abort's report has the diagnosis; \`/k8s status ${rec.app} ${rec.env}\` shows its pods`,
      );
    },
  });
  return { outcome, detail };
}
