/**
 * A full promote that did not finish leaves the stable Deployment on the canary's
 * version. Abort then undoes it: the stable goes back to the revision it had when
 * the promote began, as `kubectl rollout undo --to-revision` does (its ReplicaSet's
 * pod template copied back), so the app runs exactly what it ran before the canary.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import { isChatOpsError } from '../errors/index.js';
import { FIELD_MANAGER_ROLLBACK } from '../kube/deployments.js';
import { changeAnnotations } from '../kube/render.js';
import { ANNOTATION_REVISION, describeRevision } from '../kube/rollback.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import type { CanaryRecord } from './store.js';

/** The stable's revision now, to keep in the record before a full promote writes it. */
export function revisionNow(stable: V1Deployment): number | undefined {
  const raw = stable.metadata?.annotations?.[ANNOTATION_REVISION];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Rolls the stable back to `rec.promotedFrom` when a full promote moved it; returns what to say
 * (undefined: nothing to undo). A failure is said, not thrown: the canary is removed all the same.
 */
export async function undoPromote(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: CanaryRecord,
): Promise<string | undefined> {
  if (rec.promotedFrom === undefined) return undefined;
  try {
    const live = await deploymentOps.readIfExists(env.cluster, env.namespace, rec.stable);
    if (!live) return `deployment ${rec.stable} is gone, so there is no promote to undo`;
    const history = await deploymentOps.history(env.cluster, live);
    const plan = history.plan(rec.promotedFrom);
    if (plan.kind === 'current') return `${rec.stable} already runs revision ${describeRevision(plan.to)}, as before the promote`;
    const by = ctx.request.userName ?? ctx.request.userId;
    const { body, strategy } = history.rollbackPatch(
      plan.to,
      changeAnnotations(
        { by, channelId: ctx.request.channelId, requestId: ctx.request.requestId },
        `abort ${rec.app} ${rec.env}: undo promote, back to revision ${plan.to.revision}`,
      ),
    );
    await deploymentOps.patch(env.cluster, env.namespace, rec.stable, body, strategy, FIELD_MANAGER_ROLLBACK, { dryRun: ctx.dryRun });
    return `${rec.stable} rolled back from revision ${plan.from?.revision ?? '?'} to revision ${describeRevision(plan.to)}, what it ran before the promote (rolling out now)`;
  } catch (err) {
    if (!isChatOpsError(err) || ctx.dryRun) throw err;
    ctx.log.warn({ err }, 'could not undo the promote');
    return `:warning: ${rec.stable} could NOT be rolled back to revision ${rec.promotedFrom}, what it ran before the promote: ${err.userMessage} \`/k8s history ${rec.app} ${rec.env}\` lists its revisions and \`/k8s rollback ${rec.app} ${rec.env} <revision>\` rolls it back`;
  }
}
