/**
 * A canary's life, as the verbs drive it: start (`deploy --canary`), promote a
 * step or fully, abort. State lives in Redis (CanaryStore) and in the cluster
 * (the canary Deployment's labels and annotations); the (env, app) target lock
 * is held from start to end, so other writes on the app are refused meanwhile.
 */
import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import type { Services } from '../command/services.js';
import { RUN_INTENT_ACTION } from '../command/intents.js';
import { allowedVerbs, bindingFor } from '../policy/index.js';
import { badInput, conflict, notFound } from '../errors/index.js';
import {
  ANNOTATION_CANARY_ID,
  ANNOTATION_CANARY_OF,
  applyCanary,
  canaryDeployment,
  canaryName,
  canaryReplicas,
  deleteOwnDeployment,
  scaleCanary,
  shareText,
  stablePodSelector,
} from '../kube/canary.js';
import { appForEnvironment, requestAnnotations } from '../kube/render.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import { readOverride } from '../kube/workloads/resource-override.js';
import { requireApp } from '../config/lookup.js';
import { overrideCarriedNote } from '../slack/views/resource-override.js';
import { FIELD_MANAGER_SET_IMAGE, findContainer, setImagePatch } from '../kube/workloads/set-image.js';
import { requestIdFrom, scheduleCommand } from '../queue/commands.js';
import { escapeMrkdwn, mention, type SlackMessage } from '../slack/blocks.js';
import { canaryEndedMessage, canaryMessage } from '../slack/views/canary.js';
import { runRolloutJob } from '../worker/rollout-job.js';
import type { LockHolder } from '../queue/target-lock.js';
import { CanaryStore, type CanaryRecord } from './store.js';
import { followRestore, revisionNow, undoPromote, type RestoreOutcome } from './undo-promote.js';

export const CANARY_VERBS = ['promote', 'abort'];

export const canaryStore = (s: Services) => new CanaryStore(s.redis, s.prefix, s.signer);
const locks = (s: Services) => s.locks;
const holdId = (rec: Pick<CanaryRecord, 'id'>) => `canary-${rec.id}`;
const expiryJobId = (rec: Pick<CanaryRecord, 'id'>) => `canary-expire-${requestIdFrom(['canary-expire', rec.id])}`;

export function canaryHolder(rec: CanaryRecord): LockHolder {
  return {
    jobId: holdId(rec),
    userId: rec.userId,
    description: `canary ${rec.app} ${rec.version} in ${rec.env}`,
    since: rec.startedAt,
    hold: {
      verbs: CANARY_VERBS,
      hint: `Nothing was changed: a canary of ${rec.app} (\`${rec.version}\`) is running in ${rec.env}, started by ${mention(rec.userId)}; one change per app and environment at a time. Finish it first: \`/k8s promote ${rec.app} ${rec.env} --full\` or \`/k8s abort ${rec.app} ${rec.env}\`.`,
    },
  };
}

export function viewOf(rec: CanaryRecord) {
  return { ...rec, actionId: RUN_INTENT_ACTION };
}

/** Posts in the canary's thread (where its live message is); the requester gets it privately when they asked elsewhere. */
async function say(ctx: WorkerVerbContext<unknown>, rec: CanaryRecord, text: string): Promise<void> {
  if (rec.threadTs) {
    await ctx.services.slack.chat.postMessage({ channel: rec.channelId, thread_ts: rec.threadTs, text });
    if (ctx.request.threadTs !== rec.threadTs) await ctx.reply({ text }).catch(() => undefined);
  } else {
    await ctx.reply({ text });
  }
}

async function updateLive(ctx: WorkerVerbContext<unknown>, rec: CanaryRecord, message: SlackMessage): Promise<void> {
  if (!rec.messageTs) return;
  await ctx.services.slack.chat
    .update({ channel: rec.channelId, ts: rec.messageTs, text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) })
    .catch((err: unknown) => ctx.log.warn({ err }, 'could not update the canary message'));
}

export interface StartCanary {
  app: string;
  env: ResolvedEnvironment;
  stable: V1Deployment;
  container: string;
  version: string;
  image: string;
  /** Percent asked for, or the first of `steps`. */
  percent?: number;
  steps: number[];
  maxRestarts: number;
  maxUnready: number;
  maxDuration: number;
  note?: string;
}

/** `deploy --canary`: the canary Deployment beside the untouched stable one, the live message with its buttons, the hold, the expiry. */
export async function startCanary(ctx: WorkerVerbContext<unknown>, s: StartCanary): Promise<'succeeded'> {
  const { app, env, stable } = s;
  // The bot aborts a failing canary as the one who started it, in this channel: the channel must allow it.
  const binding = bindingFor(ctx.config, ctx.request.channelId);
  const verbs = binding ? allowedVerbs(binding, [...ctx.verbs.keys()]) : [];
  if (!CANARY_VERBS.every((v) => verbs.includes(v)))
    throw conflict(
      `Nothing was changed: a canary needs \`promote\` and \`abort\` in this channel (the bot aborts a failing canary as the one who started it, here), and this channel's binding does not allow ${CANARY_VERBS.filter(
        (v) => !verbs.includes(v),
      )
        .map((v) => `\`${v}\``)
        .join(' or ')}. Ask ops to add them under \`channels\` in the bot's config.`,
    );
  const store = canaryStore(ctx.services);
  const existing = await store.get(env.name, app);
  const id = ctx.request.requestId;
  if (existing && existing.id !== id) throw conflict(canaryHolder(existing).hold!.hint);
  const stableName = stable.metadata?.name ?? app;
  const live = await deploymentOps.readIfExists(env.cluster, env.namespace, canaryName(stableName));
  if (live && live.metadata?.annotations?.[ANNOTATION_CANARY_ID] !== id) {
    throw conflict(
      `Nothing was changed: deployment \`${canaryName(stableName)}\` already exists in ${env.namespace} and the bot has no canary on record for it. Remove it with \`/k8s abort ${app} ${env.name}\` first.`,
    );
  }
  const stableReplicas = stable.spec?.replicas ?? 1;
  if (stableReplicas < 1)
    throw conflict(`Nothing was changed: deployment \`${stableName}\` runs 0 replicas, so a canary has no stable version to run beside.`);
  const state = deploymentOps.rolloutState(stable);
  if (state.phase !== 'done')
    throw conflict(
      `Nothing was changed: deployment \`${stableName}\` is still rolling out (${escapeMrkdwn(state.message)}); start the canary once it is settled.`,
    );
  const percent = s.percent ?? s.steps[0] ?? 10;
  const steps = [percent, ...s.steps.filter((p) => p > percent)];
  const replicas = canaryReplicas(stableReplicas, percent);
  const stableImage = findContainer(stable, s.container)?.image ?? '?';
  const body = canaryDeployment(stable, {
    container: s.container,
    image: s.image,
    replicas,
    canaryId: id,
    annotations: requestAnnotations(ctx.request, `deploy ${app} ${env.name} ${s.version} --canary`),
  });

  if (ctx.dryRun) {
    // A dry run (or an approval request's diff): the canary Deployment as the server would create it; the stable
    // one, the record, the hold and the expiry are not touched.
    await applyCanary(env.cluster, body, { dryRun: ctx.dryRun });
    return 'succeeded';
  }
  await ctx.progress.start({
    text: `:hatching_chick: canary ${app} ${s.version} → ${env.name} (${percent} %), requested by ${mention(ctx.request.userId)}`,
  });
  const applied = await applyCanary(env.cluster, body);
  const now = Date.now();
  const threadTs = ctx.request.threadTs ?? ctx.progress.threadTs;
  const intentTtl = s.maxDuration + 3_600_000;
  const intent = (text: string) =>
    ctx.services.intents.create({ text, channelId: ctx.request.channelId, ...(threadTs ? { threadTs } : {}) }, intentTtl);
  const rec: CanaryRecord = {
    id,
    env: env.name,
    app,
    namespace: env.namespace,
    stable: stableName,
    canary: applied.metadata?.name ?? canaryName(stableName),
    container: s.container,
    version: s.version,
    image: s.image,
    stableImage,
    steps,
    step: 0,
    stableReplicas,
    canaryReplicas: replicas,
    stableGeneration: stable.metadata?.generation ?? 0,
    startedAt: existing?.startedAt ?? now,
    expiresAt: existing?.expiresAt ?? now + s.maxDuration,
    userId: ctx.request.userId,
    ...(ctx.request.userName ? { userName: ctx.request.userName } : {}),
    channelId: ctx.request.channelId,
    ...(threadTs ? { threadTs } : {}),
    ...(ctx.progress.threadTs ? { messageTs: ctx.progress.threadTs } : {}),
    maxRestarts: s.maxRestarts,
    maxUnready: s.maxUnready,
    buttons: {
      ...(steps.length > 1 ? { promote: await intent(`promote ${app} ${env.name}`) } : {}),
      full: await intent(`promote ${app} ${env.name} --full`),
      abort: await intent(`abort ${app} ${env.name}`),
    },
  };
  await store.save(rec);
  // The target stays taken until the canary ends (a little past its expiry, in case the expiry job runs late).
  await locks(ctx.services).hold(env.name, app, canaryHolder(rec), rec.expiresAt - now + 15 * 60_000);
  await scheduleCommand(
    ctx.services.queue,
    ctx.services.signer,
    {
      verb: 'abort',
      args: { app, env: env.name, auto: 'it reached `canary.maxDuration` without being promoted fully or aborted', canary: id },
      request: {
        requestId: requestIdFrom(['canary-expire', id]),
        text: `abort ${app} ${env.name}`,
        userId: rec.userId,
        ...(rec.userName ? { userName: rec.userName } : {}),
        channelId: rec.channelId,
        ...(threadTs ? { threadTs } : {}),
        receivedAt: now,
      },
    },
    rec.expiresAt - now,
    expiryJobId(rec),
  );
  // The canary runs the stable's pod template, requests and limits set in chat included (canaryDeployment carries their record).
  const override = readOverride(stable);
  const carried = override
    ? ` — ${overrideCarriedNote(override, appForEnvironment(requireApp(ctx.config, app), env.name).resources, stableName)}`
    : '';
  await ctx.progress.step(
    `:small_blue_diamond: applied to ${env.namespace}: deployment ${rec.canary} with ${s.image} (${replicas} replica${replicas === 1 ? '' : 's'}) beside ${stableName} — canary on ${shareText(replicas, stableReplicas)}; ${stableName} untouched (generation ${rec.stableGeneration})${carried}${s.note ? ` — ${s.note}` : ''}`,
  );
  await ctx.progress.finish('succeeded', canaryMessage(viewOf(rec), undefined, now));
  return 'succeeded';
}

async function requireCanary(ctx: WorkerVerbContext<unknown>, app: string, env: string): Promise<CanaryRecord> {
  const rec = await canaryStore(ctx.services).get(env, app);
  if (!rec) throw notFound(`No canary of ${app} is running in ${env}. Start one with \`/k8s deploy ${app} ${env} <version> --canary\`.`);
  return rec;
}

/** Ends the canary's bookkeeping: record, hold, expiry job; the live message says how it ended. */
async function endCanary(ctx: WorkerVerbContext<unknown>, rec: CanaryRecord, ended: SlackMessage): Promise<void> {
  const store = canaryStore(ctx.services);
  // The record goes first: the watcher then neither reports the canary's removal as a problem nor
  // repaints the live message (the final message is kept briefly so a check already under way restores it).
  await store.saveEnded(rec.id, ended);
  await store.remove(rec.env, rec.app);
  await deleteOwnDeployment(ctx.environment(rec.env).cluster, rec.namespace, rec.canary);
  await locks(ctx.services).releaseHold(rec.env, rec.app, holdId(rec));
  await ctx.services.queue.remove(expiryJobId(rec)).catch(() => undefined);
  await updateLive(ctx, rec, ended);
}

export interface AbortCanary {
  app: string;
  env: ResolvedEnvironment;
  /** Why the bot aborts on its own (auto-abort, maxDuration); absent when a person asked. */
  auto?: string;
  /** The canary an automatic abort was meant for: a later canary is left alone. */
  canary?: string;
  /** The stable Deployment's name from config, to find what an interrupted start left. */
  stableName?: string;
}

/**
 * What a start cut short (a crash between its writes) may leave: a canary Deployment
 * or a hold with no record. Abort removes them; true when there was something.
 */
async function cleanUpOrphan(ctx: WorkerVerbContext<unknown>, a: AbortCanary): Promise<boolean> {
  const found: string[] = [];
  if (a.stableName) {
    const name = canaryName(a.stableName);
    const live = await deploymentOps.readIfExists(a.env.cluster, a.env.namespace, name);
    if (live?.metadata?.annotations?.[ANNOTATION_CANARY_OF] === a.stableName) {
      await deleteOwnDeployment(a.env.cluster, a.env.namespace, name, { dryRun: ctx.dryRun });
      found.push(`deployment ${name} removed`);
    }
  }
  const holder = await locks(ctx.services).holder(a.env.name, a.app);
  if (holder?.hold && holder.jobId.startsWith('canary-')) {
    if (!ctx.dryRun) await locks(ctx.services).releaseHold(a.env.name, a.app, holder.jobId);
    found.push('the app is free for other changes again');
  }
  if (!found.length) return false;
  await ctx.reply({
    text: `:wastebasket: ${ctx.dryRun ? 'Would clean up' : 'Cleaned up'} what an interrupted canary of ${a.app} in ${a.env.name} left: ${found.join('; ')}.`,
  });
  return true;
}

/** Removes the canary Deployment; the stable one is left as it was, or put back as it was before a promote (followRestore). */
export async function abortCanary(ctx: WorkerVerbContext<unknown>, a: AbortCanary): Promise<RestoreOutcome | undefined> {
  const rec = await canaryStore(ctx.services).get(a.env.name, a.app);
  if (!rec) {
    if (a.canary) return; // an automatic abort of a canary that has already ended
    if (await cleanUpOrphan(ctx, a)) return;
    throw notFound(`Nothing to abort: no canary or blue/green switch of ${a.app} is running in ${a.env.name}.`);
  }
  if (a.canary && a.canary !== rec.id) return;
  const stable = await deploymentOps.readIfExists(a.env.cluster, a.env.namespace, rec.stable);
  const generation = stable?.metadata?.generation;
  const untouched =
    generation === rec.stableGeneration
      ? `${rec.stable} untouched (generation ${generation}, \`${escapeMrkdwn(rec.stableImage)}\`)`
      : `${rec.stable} is at generation ${generation ?? '?'} (was ${rec.stableGeneration} when the canary started)`;
  // A full promote that did not finish moved the stable: it goes back first, so the app is free only once it is.
  const undo = await undoPromote(ctx, a.env, rec);
  if (ctx.dryRun) {
    // The canary Deployment goes; the record, hold, expiry and live message are the bot's, not the cluster's.
    await deleteOwnDeployment(a.env.cluster, a.env.namespace, rec.canary, { dryRun: ctx.dryRun });
    await ctx.reply({ text: `The canary ends; ${undo?.kind === 'said' ? undo.text : `deployment ${rec.stable} is not changed`}.` });
    return;
  }
  const who = a.auto ? `automatically: ${a.auto}` : `by ${mention(ctx.request.userId)}`;
  const end = async (stableSaid: string) => {
    await endCanary(ctx, rec, canaryEndedMessage(rec, 'aborted', a.auto ?? `by ${mention(ctx.request.userId)}`));
    await say(
      ctx,
      rec,
      `:no_entry_sign: Canary of ${rec.app} in ${rec.env} aborted ${who}. Deployment ${rec.canary} removed; ${stableSaid}.`,
    );
  };
  // The stable's rollout back is followed; the canary ends once it is over, before its ✅/❌.
  if (undo?.kind === 'restoring') return followRestore(ctx, a.env, rec, undo, end);
  await end(undo?.text ?? untouched);
}

/** Moves the canary to its next step: more canary pods beside the same stable ones. */
export async function promoteStep(ctx: WorkerVerbContext<unknown>, app: string, env: ResolvedEnvironment): Promise<void> {
  const rec = await requireCanary(ctx, app, env.name);
  const next = rec.steps[rec.step + 1];
  if (next === undefined)
    throw badInput(
      `The canary of ${app} in ${env.name} is at its last step (${rec.steps[rec.step]} %). Promote it fully with \`/k8s promote ${app} ${env.name} --full\`, or abort it.`,
    );
  const stable = (await deploymentOps.read(env.cluster, env.namespace, rec.stable)) as V1Deployment;
  const stableReplicas = stable.spec?.replicas ?? rec.stableReplicas;
  const replicas = canaryReplicas(stableReplicas, next);
  await scaleCanary(env.cluster, env.namespace, rec.canary, replicas, { dryRun: ctx.dryRun });
  if (ctx.dryRun) {
    // The step adds canary pods beside the same stable ones: the stable Deployment is not written.
    await ctx.reply({
      text: `Step ${rec.step + 2} of ${rec.steps.length} (${next} %): ${shareText(replicas, stableReplicas)}; ${rec.stable} stays at ${stableReplicas} replica${stableReplicas === 1 ? '' : 's'}.`,
    });
    return;
  }
  const moved: CanaryRecord = { ...rec, step: rec.step + 1, stableReplicas, canaryReplicas: replicas };
  await canaryStore(ctx.services).save(moved);
  await updateLive(ctx, moved, canaryMessage(viewOf(moved), undefined, Date.now()));
  await say(
    ctx,
    moved,
    `:arrow_up: Canary of ${app} in ${env.name} promoted by ${mention(ctx.request.userId)} to step ${moved.step + 1} of ${moved.steps.length} (${next} %): ${shareText(replicas, stableReplicas)}.`,
  );
}

/** Promote fully: the stable Deployment rolls to the canary's version (followed like a deploy), then the canary is removed. */
export async function promoteFully(
  ctx: WorkerVerbContext<unknown>,
  app: string,
  env: ResolvedEnvironment,
): Promise<'succeeded' | 'failed'> {
  let rec = await requireCanary(ctx, app, env.name);
  const stable = (await deploymentOps.read(env.cluster, env.namespace, rec.stable)) as V1Deployment;
  const from = revisionNow(stable);
  if (!ctx.dryRun && rec.promotedFrom === undefined && from !== undefined) {
    // Kept before the stable is written: an abort after a promote that does not finish goes back here.
    rec = { ...rec, promotedFrom: from };
    await canaryStore(ctx.services).save(rec);
  }
  const outcome = await runRolloutJob(ctx, {
    title: `promote canary ${app} ${rec.version} → ${env.name}`,
    env,
    app,
    workload: { kind: 'Deployment', name: rec.stable, selector: stablePodSelector(stable) },
    timeoutMs: ((stable.spec?.progressDeadlineSeconds ?? 600) + 60) * 1_000,
    // A rollback would wait behind the canary's hold: the thread says to abort first instead.
    offerRollback: false,
    change: async () => {
      const applied = await deploymentOps.patch(
        env.cluster,
        env.namespace,
        rec.stable,
        setImagePatch(rec.container, rec.image, requestAnnotations(ctx.request, `promote ${app} ${env.name} ${rec.version}`)),
        PatchStrategy.StrategicMergePatch,
        FIELD_MANAGER_SET_IMAGE,
        { dryRun: ctx.dryRun },
      );
      return `applied to ${env.namespace}: ${rec.stable} image ${rec.stableImage} → ${rec.image} (generation ${applied.metadata?.generation ?? '?'}); the canary stays until the rollout is done`;
    },
  });
  if (ctx.dryRun) {
    // The stable image change above, then the canary's removal; the record, hold and live message stay as they are.
    await deleteOwnDeployment(env.cluster, env.namespace, rec.canary, { dryRun: ctx.dryRun });
    return outcome;
  }
  if (outcome !== 'succeeded') {
    await say(
      ctx,
      rec,
      `:warning: ${rec.stable} did not finish rolling to \`${escapeMrkdwn(rec.version)}\`; the canary is kept. \`/k8s abort ${app} ${env.name}\` removes it and rolls ${rec.stable} back to revision ${rec.promotedFrom ?? '?'} (what it ran before the promote).`,
    );
    return outcome;
  }
  await endCanary(
    ctx,
    rec,
    canaryEndedMessage(rec, 'promoted', `Promoted by ${mention(ctx.request.userId)}; deployment ${rec.canary} removed.`),
  );
  await say(ctx, rec, `:white_check_mark: ${rec.stable} runs \`${escapeMrkdwn(rec.image)}\`; deployment ${rec.canary} removed.`);
  return outcome;
}
