/**
 * A blue/green release: the new colour's Deployment is rolled out beside the
 * serving one, the Service switches to it in one selector patch when every pod
 * is ready, the old one stays scaled for `blueGreen.keepOld` with a Switch back
 * button (one patch back), then a delayed job scales it to 0. The app is held
 * meanwhile, like a canary; the record is in Redis, so a restart changes nothing.
 */
import { PatchStrategy, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import type { ResolvedEnvironment, WorkerVerbContext } from '../command/types.js';
import type { Services } from '../command/services.js';
import { RUN_INTENT_ACTION } from '../command/intents.js';
import {
  applyColor,
  colorDeployment,
  colorName,
  otherColor,
  readService,
  revisionSelector,
  switchSelector,
  LABEL_COLOR,
  type Color,
} from '../kube/blue-green.js';
import { appForEnvironment, requestAnnotations } from '../kube/render.js';
import { deploymentOps } from '../kube/workloads/kinds.js';
import { readOverride } from '../kube/workloads/resource-override.js';
import { requireApp } from '../config/lookup.js';
import type { Config } from '../config/schema.js';
import { overrideCarriedNote, overrideDeployNote } from '../slack/views/resource-override.js';
import { FIELD_MANAGER_SET_IMAGE, findContainer, setImagePatch } from '../kube/workloads/set-image.js';
import { podSelector } from '../kube/workloads/types.js';
import { requestIdFrom, scheduleCommand } from '../queue/commands.js';
import { actions, context, escapeMrkdwn, mention, section, type SlackMessage } from '../slack/blocks.js';
import { jobStarted, jobSucceeded } from '../slack/views/job-thread.js';
import { runRolloutJob } from '../worker/rollout-job.js';
import type { LockHolder } from '../queue/target-lock.js';
import { CanaryStore, type BlueGreenRecord } from './store.js';
import { CANARY_VERBS } from './lifecycle.js';
import { notReadyAgain, readyAgain } from './blue-green-resume.js';

export const blueGreenStore = (s: Services) => new CanaryStore<BlueGreenRecord>(s.redis, s.prefix, s.signer, 'bluegreen');
const locks = (s: Services) => s.locks;
const holdId = (rec: Pick<BlueGreenRecord, 'id'>) => `bluegreen-${rec.id}`;
const finishJobId = (rec: Pick<BlueGreenRecord, 'id'>) => `bluegreen-finish-${requestIdFrom(['bluegreen-finish', rec.id])}`;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function holder(rec: BlueGreenRecord): LockHolder {
  return {
    jobId: holdId(rec),
    userId: rec.userId,
    description: `blue/green release of ${rec.app} ${rec.version} in ${rec.env}`,
    since: rec.switchedAt,
    hold: {
      verbs: CANARY_VERBS,
      requestId: rec.id,
      hint: `Nothing was changed: ${rec.app} in ${rec.env} was just switched blue/green to \`${rec.version}\` by ${mention(rec.userId)}, and ${rec.old} is kept for switching back until ${stamp(rec.keepUntil)}; one change per app and environment at a time. \`/k8s abort ${rec.app} ${rec.env}\` switches back now; \`/k8s promote ${rec.app} ${rec.env} --full\` scales ${rec.old} to 0 now and frees the app.`,
    },
  };
}

function switchedMessage(rec: BlueGreenRecord, switchBack?: string): SlackMessage {
  const text = `:large_blue_circle: Service \`${escapeMrkdwn(rec.service)}\` switched to ${rec.live} (\`${escapeMrkdwn(rec.image)}\`) in one selector patch. ${rec.old} (\`${escapeMrkdwn(rec.oldImage)}\`) stays scaled until ${stamp(rec.keepUntil)}, then it is scaled to 0.`;
  return {
    text,
    blocks: [
      section(text),
      ...(switchBack
        ? [
            actions('bluegreen', [
              { text: 'Switch back', actionId: `${RUN_INTENT_ACTION}:bluegreen-back`, value: switchBack, style: 'danger' as const },
            ]),
            context(
              `*Switch back* points the Service at ${rec.old} again (one patch, instant) · \`/k8s abort ${rec.app} ${rec.env}\` does the same`,
            ),
          ]
        : []),
    ],
  };
}

export interface StartBlueGreen {
  app: string;
  env: ResolvedEnvironment;
  service: V1Service;
  /** The Deployment the Service selects now. */
  serving: V1Deployment;
  container: string;
  version: string;
  image: string;
  keepOld: number;
  timeoutMs: number;
}

/** The requests and limits the bot's config gives the app in this environment (what chat-set values are shown beside). */
const configured = (config: Config, app: string, env: string) => appForEnvironment(requireApp(config, app), env).resources;

export async function startBlueGreen(ctx: WorkerVerbContext<unknown>, s: StartBlueGreen): Promise<'succeeded' | 'failed'> {
  const { app, env, serving, service } = s;
  const mine = ctx.dryRun ? undefined : await blueGreenStore(ctx.services).get(env.name, app);
  if (mine?.id === ctx.request.requestId) return resumeSwitch(ctx, env, mine, s);
  const color = otherColor(service.spec?.selector?.[LABEL_COLOR]);
  const name = colorName(app, color);
  const replicas = serving.spec?.replicas ?? 1;
  const body = colorDeployment(serving, {
    name,
    color,
    container: s.container,
    image: s.image,
    replicas,
    annotations: requestAnnotations(ctx.request, `deploy ${app} ${env.name} ${s.version} --blue-green`),
  });
  // The app's own selector (without a revision pin left by a switch back) narrowed to the new colour.
  const base = Object.fromEntries(
    Object.entries(service.spec?.selector ?? {}).filter(([k]) => k !== 'pod-template-hash' && k !== LABEL_COLOR),
  );
  const liveSelector = { ...base, [LABEL_COLOR]: color };
  const oldSelector = await revisionSelector(env.cluster, serving);
  const oldName = serving.metadata?.name ?? app;
  // The values set in chat on what serves now come along (colorDeployment carries their record): say so.
  const override = readOverride(serving);
  const carried = override ? overrideCarriedNote(override, configured(ctx.config, app, env.name)) : undefined;
  let leftovers: string[] = [];
  const outcome = await runRolloutJob(ctx, {
    title: `deploy ${app} ${s.version} → ${env.name} (blue/green)`,
    env,
    app,
    workload: {
      kind: 'Deployment',
      name,
      selector: Object.entries(body.spec!.selector.matchLabels!)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
    timeoutMs: s.timeoutMs,
    offerRollback: false,
    change: async () => {
      const { applied, dropped } = await applyColor(env.cluster, body, { dryRun: ctx.dryRun });
      leftovers = dropped;
      const cleaned = dropped.length ? ` (left from its last release and dropped: ${dropped.join(', ')})` : '';
      return `applied to ${env.namespace}: deployment ${name} (${color}) with ${s.image}, ${replicas} replica${replicas === 1 ? '' : 's'} (generation ${applied.metadata?.generation ?? '?'})${cleaned}; Service ${service.metadata?.name ?? app} still on ${oldName} until every pod is ready${carried ? ` — ${carried}` : ''}`;
    },
    onDone: async () => {
      const now = Date.now();
      const threadTs = ctx.request.threadTs ?? ctx.progress.threadTs;
      const rec: BlueGreenRecord = {
        id: ctx.request.requestId,
        env: env.name,
        app,
        namespace: env.namespace,
        service: service.metadata?.name ?? app,
        version: s.version,
        image: s.image,
        live: name,
        old: oldName,
        oldImage: findContainer(serving, s.container)?.image ?? '?',
        liveSelector,
        oldSelector,
        switchedAt: now,
        keepUntil: now + s.keepOld,
        userId: ctx.request.userId,
        ...(ctx.request.userName ? { userName: ctx.request.userName } : {}),
        channelId: ctx.request.channelId,
        ...(threadTs ? { threadTs } : {}),
      };
      // Saved before the switch: the same job run again after a crash from here on finds it and only completes the switch.
      await blueGreenStore(ctx.services).save(rec);
      return completeSwitch(ctx, env, rec, s.keepOld, service.spec?.selector ?? {});
    },
  });
  if (ctx.dryRun) {
    // The switch the run makes once the rollout is done, recorded too; no record, hold or finish job.
    await switchSelector(env.cluster, env.namespace, service.metadata?.name ?? app, service.spec?.selector ?? {}, liveSelector, {
      dryRun: ctx.dryRun,
    });
    const dropped = leftovers.length ? ` Left on ${name} from its last release and dropped first: ${leftovers.join(', ')}.` : '';
    await ctx.reply({
      text: `${blueGreenPlan(service.metadata?.name ?? app, name, oldName, s.keepOld)}${dropped}${carried ? ` ${name} ${carried}.` : ''}`,
    });
    return outcome;
  }
  if (outcome === 'failed') {
    // The Service never moved; the new colour's pods are of no use.
    await deploymentOps.scale!(env.cluster, env.namespace, name, 0).catch(() => undefined);
    await ctx.progress.step(`Service ${service.metadata?.name ?? app} stays on ${oldName}; deployment ${name} scaled to 0.`);
  }
  return outcome;
}

/** What a dry run of `deploy --blue-green` cannot show as one diff: when each change happens. */
const blueGreenPlan = (service: string, name: string, old: string, keepOld: number) =>
  `First deployment ${name} rolls out; Service ${service} switches to it (one selector patch) only when every new pod is ready, and stays on ${old} if they never are. ${old} is then kept scaled for switching back for ${Math.round(keepOld / 60_000)} min (blueGreen.keepOld), after which a later job scales it to 0.`;

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * The switch and what keeps it switchable (Switch back button, the keepOld job, the hold), each step
 * idempotent: the same job run again after a crash completes it once. `from` guards the selector
 * (a `test` op); without it, the Service is read and left alone if it selects the new colour already.
 * `keepOld`: how long from now the old colour is kept.
 */
async function completeSwitch(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: BlueGreenRecord,
  keepOld: number,
  from?: Record<string, string>,
): Promise<SlackMessage> {
  const selector = from ?? (await readService(env.cluster, env.namespace, rec.service)).spec?.selector ?? {};
  if (from || !sameLabels(selector, rec.liveSelector)) {
    try {
      await switchSelector(env.cluster, env.namespace, rec.service, selector, rec.liveSelector);
    } catch (err) {
      await blueGreenStore(ctx.services).remove(rec.env, rec.app);
      throw err;
    }
  }
  const { app, env: envName, threadTs } = rec;
  const back = await ctx.services.intents.create(
    { text: `abort ${app} ${envName}`, channelId: rec.channelId, ...(threadTs ? { threadTs } : {}) },
    keepOld + 3_600_000,
  );
  await scheduleCommand(
    ctx.services.queue,
    ctx.services.signer,
    {
      verb: 'abort',
      args: { app, env: envName, finish: rec.id },
      request: {
        requestId: requestIdFrom(['bluegreen-finish', rec.id]),
        text: `abort ${app} ${envName}`,
        userId: rec.userId,
        ...(rec.userName ? { userName: rec.userName } : {}),
        channelId: rec.channelId,
        ...(threadTs ? { threadTs } : {}),
        receivedAt: Date.now(),
      },
    },
    keepOld,
    finishJobId(rec),
  );
  // Last: once held, everything else is in place.
  await locks(ctx.services).hold(envName, app, holder(rec), keepOld + 15 * 60_000);
  return switchedMessage(rec, back);
}

/**
 * The same job run again after the switch had begun (a crash): the record saved before it tells what is left.
 * A switch that had not landed waits for the new colour's pods to be ready again first.
 */
async function resumeSwitch(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: BlueGreenRecord,
  s: StartBlueGreen,
): Promise<'succeeded' | 'failed'> {
  const title = `deploy ${rec.app} ${s.version} → ${env.name} (blue/green)`;
  const started = Date.now();
  await ctx.progress.start(jobStarted(title, ctx.request.userId));
  const selector = (await readService(env.cluster, env.namespace, rec.service)).spec?.selector ?? {};
  const switched = sameLabels(selector, rec.liveSelector);
  if (!switched) {
    const state = await readyAgain(ctx, env, rec, s.timeoutMs);
    const forget = () => blueGreenStore(ctx.services).remove(rec.env, rec.app);
    if (state.phase !== 'done') return notReadyAgain(ctx, env, rec, { title, started, state, forget });
  }
  const done = await completeSwitch(ctx, env, rec, Math.max(0, rec.keepUntil - Date.now()), switched ? undefined : selector);
  await ctx.progress.finish(
    'succeeded',
    jobSucceeded(title, ctx.request.userId, Date.now() - started, `${rec.live} ready; the switch resumed after a restart`),
    done,
  );
  return 'succeeded';
}

/**
 * What the release that made `live` (a colour's Deployment) serve keeps for switching back, and until when;
 * undefined once its keep period is over. `color`: the kept Deployment's colour (absent: the app's own Deployment).
 */
export async function keptForSwitchBack(
  services: Services,
  env: string,
  app: string,
  live: string,
): Promise<{ name: string; color?: Color; until: number } | undefined> {
  const rec = await blueGreenStore(services).get(env, app);
  if (rec?.live !== live) return undefined;
  const color = (['blue', 'green'] as const).find((c) => colorName(app, c) === rec.old);
  return { name: rec.old, ...(color ? { color } : {}), until: rec.keepUntil };
}

async function end(ctx: WorkerVerbContext<unknown>, rec: BlueGreenRecord): Promise<void> {
  await blueGreenStore(ctx.services).remove(rec.env, rec.app);
  await locks(ctx.services).releaseHold(rec.env, rec.app, holdId(rec));
  await ctx.services.queue.remove(finishJobId(rec)).catch(() => undefined);
}

async function say(ctx: WorkerVerbContext<unknown>, rec: BlueGreenRecord, text: string): Promise<void> {
  if (rec.threadTs) await ctx.services.slack.chat.postMessage({ channel: rec.channelId, thread_ts: rec.threadTs, text });
  if (!rec.threadTs || ctx.request.threadTs !== rec.threadTs) await ctx.reply({ text }).catch(() => undefined);
}

/** Switch back: the Service selects the old Deployment again (one patch); the new colour is scaled to 0. */
export async function switchBack(ctx: WorkerVerbContext<unknown>, env: ResolvedEnvironment, rec: BlueGreenRecord): Promise<void> {
  const dry = { dryRun: ctx.dryRun };
  await switchSelector(env.cluster, env.namespace, rec.service, rec.liveSelector, rec.oldSelector, dry);
  await deploymentOps.scale!(env.cluster, env.namespace, rec.live, 0, dry);
  if (ctx.dryRun) {
    await ctx.reply({
      text: `The Service switches back at once; ${rec.live} is scaled to 0 right after, and the app is free for other changes.`,
    });
    return;
  }
  await end(ctx, rec);
  await say(
    ctx,
    rec,
    `:leftwards_arrow_with_hook: Switched back by ${mention(ctx.request.userId)}: Service \`${escapeMrkdwn(rec.service)}\` selects ${rec.old} (\`${escapeMrkdwn(rec.oldImage)}\`) again; ${rec.live} scaled to 0.`,
  );
}

/** The end of the keep period (or `promote --full`): the old Deployment is scaled to 0 and the app is free. */
export async function finishBlueGreen(
  ctx: WorkerVerbContext<unknown>,
  env: ResolvedEnvironment,
  rec: BlueGreenRecord,
  auto: boolean,
): Promise<void> {
  const old = await deploymentOps.readIfExists(env.cluster, env.namespace, rec.old);
  if (old) await deploymentOps.scale!(env.cluster, env.namespace, rec.old, 0, { dryRun: ctx.dryRun });
  if (ctx.dryRun) {
    await ctx.reply({
      text: `${old ? `${rec.old} is scaled to 0` : `${rec.old} is gone already`}; ${rec.live} keeps serving, Switch back is no longer offered and the app is free for other changes.`,
    });
    return;
  }
  await end(ctx, rec);
  await say(
    ctx,
    rec,
    `:white_check_mark: ${rec.old} scaled to 0 ${auto ? 'at the end of `blueGreen.keepOld`' : `by ${mention(ctx.request.userId)}`}; ${rec.live} (\`${escapeMrkdwn(rec.image)}\`) serves ${rec.app} in ${rec.env}. Switch back is no longer offered.`,
  );
}

export interface RollLiveColor {
  app: string;
  env: ResolvedEnvironment;
  color: Color;
  container: string;
  version: string;
  image: string;
  annotations: Record<string, string>;
  timeoutMs: number;
  /** The pod-template restart stamp for this change (a retry of the job finds its own). */
  restartFor: (current: V1Deployment, sameImage: boolean) => { isRetry: boolean; restartedAt?: string | undefined };
  note?: string;
}

/**
 * A plain deploy after a blue/green switch: the colour the Service selects rolls to the new image in
 * place, as a plain deploy rolls any app (the app's own Deployment no longer serves; no second colour,
 * no Switch back).
 */
export async function rollLiveColor(ctx: WorkerVerbContext<unknown>, r: RollLiveColor): Promise<'succeeded' | 'failed'> {
  const { env, app } = r;
  const name = colorName(app, r.color);
  const live = await deploymentOps.read(env.cluster, env.namespace, name);
  return runRolloutJob(ctx, {
    title: `deploy ${app} ${r.version} → ${env.name}`,
    env,
    app,
    workload: { kind: 'Deployment', name, selector: podSelector(live) },
    timeoutMs: r.timeoutMs,
    // A failed roll offers Rollback: `rollback` follows the colour the Service selects too.
    change: async () => {
      const current = await deploymentOps.read(env.cluster, env.namespace, name);
      const before = findContainer(current, r.container)?.image;
      const { isRetry, restartedAt } = r.restartFor(current, before === r.image);
      const patch = setImagePatch(r.container, r.image, r.annotations, restartedAt);
      const applied = await deploymentOps.patch(
        env.cluster,
        env.namespace,
        name,
        patch,
        PatchStrategy.StrategicMergePatch,
        FIELD_MANAGER_SET_IMAGE,
        { dryRun: ctx.dryRun },
      );
      const action = isRetry ? `re-applied ${r.image} (retry of this job)` : `image ${before ?? '?'} → ${r.image}`;
      const kept = readOverride(current);
      const keptNote = kept ? ` — ${overrideDeployNote(app, env.name, kept, configured(ctx.config, app, env.name))}` : '';
      return `applied to ${env.namespace}: deployment ${name}, the ${r.color} colour the Service selects, rolled in place: ${action} (generation ${applied.metadata?.generation ?? '?'})${r.note ? ` — ${r.note}` : ''}${keptNote}. \`/k8s deploy ${app} ${env.name} <version> --blue-green\` releases beside it with an instant Switch back instead.`;
    },
  });
}
