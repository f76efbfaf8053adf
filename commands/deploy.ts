import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb, type ResolvedEnvironment, type WorkerVerbContext } from '../src/command/types.js';
import { appArg, envArg, versionArg } from '../src/command/schemas.js';
import { badInput, conflict, notFound } from '../src/errors/index.js';
import { appWorkload, type AppWorkload } from '../src/config/apps.js';
import type { AppConfig } from '../src/config/schema.js';
import { environmentOf, requireApp } from '../src/config/lookup.js';
import { applyConfigMap, applyIngress, applyService } from '../src/kube/apply.js';
import {
  ANNOTATION_REQUEST_ID,
  ANNOTATION_RESTARTED_AT,
  LABEL_APP,
  appForEnvironment,
  imageRef,
  imageTag,
  renderApp,
  requestAnnotations,
} from '../src/kube/render.js';
import { workloadOps } from '../src/kube/workloads/kinds.js';
import { describeManager, gitopsImageOwner, gitopsTracker, gitopsWarning } from '../src/kube/workloads/ownership.js';
import { FIELD_MANAGER_SET_IMAGE, containersOf, findContainer, setImagePatch } from '../src/kube/workloads/set-image.js';
import { chatResources } from '../src/kube/workloads/set-resources.js';
import { readOverride } from '../src/kube/workloads/resource-override.js';
import { overrideDeployNote } from '../src/slack/views/resource-override.js';
import { foreignObjects, type ForeignObject } from '../src/kube/workloads/takeover.js';
import { describeWorkload, podSelector, type AnyWorkload } from '../src/kube/workloads/types.js';
import { escapeMrkdwn } from '../src/slack/blocks.js';
import { appRolloutTimeoutMs } from '../src/command/workload-target.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';
import { startCanary } from '../src/canary/lifecycle.js';
import { rollLiveColor, startBlueGreen } from '../src/canary/blue-green.js';
import { colorName, otherColor, readService, serviceColor, type Color } from '../src/kube/blue-green.js';
import { canaryName, canaryReplicas, shareText } from '../src/kube/canary.js';

const canaryPercent = z
  .union([z.literal(true), z.string().regex(/^\d{1,3}%?$/, 'canary is a percentage, e.g. `--canary 10`')])
  .transform((v, ctx) => {
    if (v === true) return true as const;
    const n = Number(v.replace('%', ''));
    if (n < 1 || n > 99) {
      ctx.addIssue({ code: 'custom', message: 'canary is a percentage from 1 to 99' });
      return z.NEVER;
    }
    return n;
  });
const schema = z
  .object({
    app: appArg,
    env: envArg,
    version: versionArg.optional(),
    canary: canaryPercent.optional(),
    'blue-green': z.boolean().optional(),
  })
  .refine((a) => !(a.canary !== undefined && a['blue-green']), 'give `--canary` or `--blue-green`, not both');
type Args = z.infer<typeof schema>;

/** The image of the app's container in a live workload. */
function runningImage(live: AnyWorkload | undefined, target: AppWorkload): string | undefined {
  return live ? (findContainer(live, target.container) ?? (target.adopted ? undefined : containersOf(live)[0]))?.image : undefined;
}

/** Without a version: what runs in the promoteFrom environment, else the app's default tag. */
async function resolveVersion(ctx: WorkerVerbContext<Args>): Promise<{ version: string; note?: string }> {
  const { app, env, version } = ctx.args;
  if (version) return { version };
  const appConfig = requireApp(ctx.config, app);
  const fallback = appForEnvironment(appConfig, env).defaultTag;
  const source = environmentOf(ctx.config, env)?.promoteFrom;
  if (!source) return { version: fallback };
  const from = ctx.environment(source);
  const target = appWorkload(app, appConfig, source);
  const running = await workloadOps(target.kind).readIfExists(from.cluster, from.namespace, target.name);
  const tag = imageTag(runningImage(running, target) ?? '');
  if (!tag) return { version: fallback, note: `${app} is not running in ${source}, so deploying the default tag ${fallback}` };
  return { version: tag, note: `promoting the version running in ${source}` };
}

/** The config lines that adopt an existing workload instead of rendering over it. */
function adoptLines(app: string, appConfig: AppConfig, found: ForeignObject): string {
  const live = found.object as AnyWorkload;
  const names = containersOf(live).map((c) => c.name);
  const choice = names.length > 1 ? `   # the container deploy sets: one of ${names.join(', ')}` : '';
  return [
    'apps:',
    `  ${app}:`,
    `    image: ${appConfig.image}`,
    `    workload: { kind: ${found.kind}, name: ${found.name}, container: ${names[0] ?? 'CONTAINER'} }${choice}`,
  ].join('\n');
}

/** Refuses, with who manages what and how to adopt instead, when a rendered app would overwrite objects not the bot's. */
function refuseTakeover(app: string, envName: string, appConfig: AppConfig, foreign: ForeignObject[]): never {
  const lines = foreign.map(
    (f) => `• ${f.kind.toLowerCase()} \`${escapeMrkdwn(f.name)}\` is managed by ${describeManager(f.manager, escapeMrkdwn)}`,
  );
  const workload = foreign.find((f) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(f.kind));
  const adopt = workload
    ? `\nTo deploy it from chat, adopt it instead — in the bot's config:\n\`\`\`${escapeMrkdwn(adoptLines(app, appConfig, workload))}\`\`\`\nThen \`deploy\` changes only that container's image.`
    : "\nRename the app in the bot's config, or remove those objects, to let the bot render its own.";
  throw conflict(
    `Nothing was changed: \`deploy ${app} ${envName}\` would take over objects the bot did not create.\n${lines.join('\n')}${adopt}`,
  );
}

/** A GitOps controller reverts chat-made image changes: refuse unless the app allows the drift. */
function gitopsNote(app: string, appConfig: AppConfig, live: AnyWorkload, container: string): string | undefined {
  const tracker = gitopsTracker(live);
  const owner = gitopsImageOwner(live, container);
  if (!tracker && !owner) return undefined;
  const who = tracker
    ? describeManager(tracker, escapeMrkdwn)
    : `the GitOps controller \`${escapeMrkdwn(owner!)}\` (it owns the image field)`;
  const warning = gitopsWarning(who);
  if (appConfig.gitops !== 'allowDrift') {
    throw conflict(
      `Nothing was changed: ${warning}. To change it from chat anyway until the next sync, set \`gitops: allowDrift\` on \`apps.${app}\` in the bot's config.`,
    );
  }
  return `note: ${warning}`;
}

/** Reads the adopted workload and checks it before anything is written. */
async function readAdopted(env: ResolvedEnvironment, app: string, target: AppWorkload): Promise<AnyWorkload> {
  const ops = workloadOps(target.kind);
  const live = await ops.readIfExists(env.cluster, env.namespace, target.name);
  if (!live) {
    throw notFound(
      `\`apps.${app}.workload\` names ${describeWorkload(target.kind, target.name, env.namespace)}, which does not exist. The bot adopts existing workloads; create it first, or fix the name in the bot's config.`,
    );
  }
  if (!findContainer(live, target.container)) {
    const names = containersOf(live)
      .map((c) => `\`${escapeMrkdwn(c.name)}\``)
      .join(', ');
    throw badInput(
      `${describeWorkload(target.kind, target.name, env.namespace)} has no container \`${target.container}\` (it has ${names}); fix \`apps.${app}.workload.container\` in the bot's config.`,
    );
  }
  return live;
}

export default defineVerb<Args>({
  verb: 'deploy',
  summary: 'Deploy a version of an app to an environment and follow the rollout',
  usage: 'deploy <app> <env> [version] [--canary [percent]] [--blue-green]',
  example: 'deploy myapp beta 1.4.2',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env', 'version?'],
  flags: { canary: { optionalValue: /^\d+%?$/ }, 'blue-green': 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app, env, canary, 'blue-green': blueGreen }, config) => {
    const appConfig = requireApp(config, app);
    const kind = appWorkload(app, appConfig, env).kind;
    if ((canary !== undefined || blueGreen) && kind !== 'Deployment')
      throw badInput(`\`--${canary !== undefined ? 'canary' : 'blue-green'}\` works on Deployments; ${app} is a ${kind}.`);
  },
  describe: ({ app, env, version, canary, 'blue-green': blueGreen }) =>
    `deploy ${app}${version ? ` ${version}` : ''} → ${env}${canary === true ? ' (canary)' : canary !== undefined ? ` (canary ${canary} %)` : ''}${blueGreen ? ' (blue/green)' : ''}`,
  async pin(ctx) {
    return { version: (await resolveVersion(ctx)).version };
  },
  async preview(ctx) {
    const { app, env: envName } = ctx.args;
    const appConfig = requireApp(ctx.config, app);
    const env = ctx.environment(envName);
    const target = appWorkload(app, appConfig, envName);
    const { version, note } = await resolveVersion(ctx);
    const current = await workloadOps(target.kind).readIfExists(env.cluster, env.namespace, target.name);
    const currentImage = runningImage(current, target);
    const image = imageRef(appConfig, version);
    if (ctx.args['blue-green'] && !target.adopted) {
      const color = await serviceColor(env.cluster, env.namespace, app);
      const serving = color ? colorName(app, color as Color) : app;
      const next = colorName(app, otherColor(color));
      const servingImage = runningImage(await workloadOps(target.kind).readIfExists(env.cluster, env.namespace, serving), target);
      return [
        `deployment ${next} with ${image} beside ${serving} (${servingImage ?? '?'}); Service ${app} switches to ${next} when every new pod is ready`,
        ...(note ? [note] : []),
      ];
    }
    if (ctx.args.canary !== undefined && current) {
      const stableReplicas = (current.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      const percent = ctx.args.canary === true ? (appConfig.canary.steps[0] ?? 10) : ctx.args.canary;
      const replicas = canaryReplicas(stableReplicas, percent);
      return [
        `new deployment ${canaryName(target.name)} with ${image} beside ${target.name} (${currentImage ?? '?'}, left untouched): canary on ${shareText(replicas, stableReplicas)}`,
        ...(note ? [note] : []),
      ];
    }
    const color = target.adopted || ctx.args['blue-green'] ? undefined : await serviceColor(env.cluster, env.namespace, app);
    if (color) {
      const name = colorName(app, color as Color);
      const live = await workloadOps('Deployment').readIfExists(env.cluster, env.namespace, name);
      return [
        `deployment ${name} (the ${color} colour the Service selects) rolled in place: image ${runningImage(live, target) ?? '?'} → ${image}`,
        ...(note ? [note] : []),
      ];
    }
    const lines = [
      current
        ? `${target.adopted ? `container ${target.container} of ${target.kind.toLowerCase()} ${target.name}: ` : ''}image ${currentImage ?? '?'} → ${image}${currentImage === image ? ' (same image: pods restart)' : ''}`
        : `new ${target.kind.toLowerCase()} in ${env.namespace} with ${image}`,
    ];
    if (!target.adopted && target.kind !== 'DaemonSet')
      lines.push(
        `replicas ${(current?.spec as { replicas?: number } | undefined)?.replicas ?? 0} → ${appForEnvironment(appConfig, envName).replicas}`,
      );
    if (note) lines.push(note);
    return lines;
  },
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const appConfig = requireApp(ctx.config, app);
    const env = ctx.environment(envName);
    const target = appWorkload(app, appConfig, envName);
    const ops = workloadOps(target.kind);
    const { version, note } = await resolveVersion(ctx);
    const image = imageRef(appConfig, version);
    const ourAnnotations = requestAnnotations(ctx.request, `deploy ${app} ${envName} ${version}`);
    const restartFor = (current: AnyWorkload | undefined, sameImage: boolean) => {
      // A retry of this very job finds its own earlier change: make the same change again, no extra restart.
      const isRetry = current?.metadata?.annotations?.[ANNOTATION_REQUEST_ID] === ctx.request.requestId;
      const restartedAt = isRetry
        ? current?.spec?.template.metadata?.annotations?.[ANNOTATION_RESTARTED_AT]
        : sameImage
          ? new Date(ctx.request.receivedAt).toISOString()
          : undefined;
      return { isRetry, restartedAt };
    };
    const timeoutMs = appRolloutTimeoutMs(target.kind, appConfig);

    if (ctx.args['blue-green'] || !target.adopted) {
      const color = target.adopted ? undefined : await serviceColor(env.cluster, env.namespace, app);
      if (ctx.args['blue-green']) {
        if (target.adopted)
          throw badInput(
            `\`--blue-green\` switches the Service the bot renders for an app; ${app} is adopted (\`workload\`), so it has none the bot owns.`,
          );
        const service = await readService(env.cluster, env.namespace, app);
        const serving = await ops.read(env.cluster, env.namespace, color ? colorName(app, color as 'blue' | 'green') : app);
        return startBlueGreen(ctx, {
          app,
          env,
          service,
          serving: serving as V1Deployment,
          container: target.container,
          version,
          image,
          keepOld: appConfig.blueGreen.keepOld,
          timeoutMs,
        });
      }
      if (color && ctx.args.canary !== undefined)
        throw conflict(
          `Nothing was changed: ${app} in ${envName} is released blue/green (its Service selects \`color: ${escapeMrkdwn(color)}\`, deployment ${colorName(app, color as Color)}), and a canary runs beside the app's own Deployment, which no longer serves. Deploy with \`/k8s deploy ${app} ${envName} ${version} --blue-green\`.`,
        );
      // Released blue/green before: a plain deploy rolls the colour that serves, in place.
      if (color)
        return rollLiveColor(ctx, {
          app,
          env,
          color: color as Color,
          container: target.container,
          version,
          image,
          annotations: ourAnnotations,
          timeoutMs,
          restartFor,
          ...(note ? { note } : {}),
        });
    }

    if (ctx.args.canary !== undefined) {
      const stable = target.adopted ? await readAdopted(env, app, target) : await ops.readIfExists(env.cluster, env.namespace, target.name);
      if (!stable)
        throw notFound(
          `${app} is not running in ${envName} yet, so a canary has nothing to run beside. Deploy it first without \`--canary\`.`,
        );
      const { steps, maxRestarts, maxUnready, maxDuration } = appConfig.canary;
      return startCanary(ctx, {
        app,
        env,
        stable: stable as V1Deployment,
        container: target.container,
        version,
        image,
        ...(ctx.args.canary === true ? {} : { percent: ctx.args.canary }),
        steps,
        maxRestarts,
        maxUnready,
        maxDuration,
        ...(note ? { note } : {}),
      });
    }

    if (target.adopted) {
      // Everything is checked before the thread starts: a refusal writes nothing.
      const live = await readAdopted(env, app, target);
      const drift = gitopsNote(app, appConfig, live, target.container);
      return runRolloutJob(ctx, {
        title: `deploy ${app} ${version} → ${envName}`,
        env,
        app,
        workload: { kind: target.kind, name: target.name, selector: podSelector(live) },
        timeoutMs,
        change: async () => {
          const current = await readAdopted(env, app, target);
          const before = findContainer(current, target.container)?.image;
          const { isRetry, restartedAt } = restartFor(current, before === image);
          const patch = setImagePatch(target.container, image, ourAnnotations, restartedAt);
          const applied = await ops.patch(
            env.cluster,
            env.namespace,
            target.name,
            patch,
            PatchStrategy.StrategicMergePatch,
            FIELD_MANAGER_SET_IMAGE,
            { dryRun: ctx.dryRun },
          );
          const where = `container ${target.container} of ${target.kind.toLowerCase()} ${target.name}`;
          const action = isRetry
            ? `re-applied ${image} (retry of this job)`
            : before === image
              ? `${where}: same image again (pods restart to pull it)`
              : `${where}: image ${before ?? '?'} → ${image}`;
          return `applied to ${env.namespace}: ${action} (generation ${applied.metadata?.generation ?? '?'})${note ? ` — ${note}` : ''}${drift ? ` — ${drift}` : ''}`;
        },
      });
    }

    const renderInput = {
      appName: app,
      app: appConfig,
      envName,
      namespace: env.namespace,
      version,
      requestedBy: ctx.request.userName ?? ctx.request.userId,
      channelId: ctx.request.channelId,
      configData: appForEnvironment(appConfig, envName).env,
      requestId: ctx.request.requestId,
    };
    // Never take over what the bot did not create: check every object before writing any.
    const foreign = await foreignObjects(env.cluster, env.namespace, renderApp(renderInput));
    if (foreign.length) refuseTakeover(app, envName, appConfig, foreign);
    return runRolloutJob(ctx, {
      title: `deploy ${app} ${version} → ${envName}`,
      env,
      app,
      workload: { kind: target.kind, name: app, selector: `${LABEL_APP}=${app}` },
      timeoutMs,
      change: async () => {
        const current = await ops.readIfExists(env.cluster, env.namespace, app);
        const sameImage = current ? containersOf(current).some((c) => c.image === image) : false;
        const { isRetry, restartedAt } = restartFor(current, sameImage);
        // Same tag again (e.g. "latest"): restart the pods so the image is pulled anew.
        // Requests and limits set with `resources` in this environment stay (kept on the live workload).
        const input = { ...renderInput, ...(restartedAt ? { restartedAt } : {}), chatResources: chatResources(current) };
        const rendered = renderApp(input);
        // Force only onto objects checked above to be ours (or absent): it takes back fields a chat verb changed.
        const dry = { dryRun: ctx.dryRun };
        const configMap = await applyConfigMap(env.cluster, rendered.configMap, true, dry);
        if (rendered.headlessService) await applyService(env.cluster, rendered.headlessService, true, dry);
        if (rendered.service) await applyService(env.cluster, rendered.service, true, dry);
        // The checksum covers what the ConfigMap holds now (or would hold, in a dry run), chat-set keys included.
        const applied = await ops.apply(env.cluster, renderApp({ ...input, checksumData: configMap.data ?? {} }).workload, true, dry);
        if (rendered.ingress) await applyIngress(env.cluster, rendered.ingress, true, dry);
        const kind = target.kind.toLowerCase();
        const action =
          current && !isRetry
            ? sameImage
              ? 'redeployed the same image (pods restart to pull it)'
              : `updated image ${runningImage(current, target) ?? '?'} → ${image}`
            : isRetry
              ? `re-applied ${image} (retry of this job)`
              : `created ${kind} with ${image}`;
        const kept = readOverride(current);
        const keptNote = kept ? ` — ${overrideDeployNote(app, envName, kept, appForEnvironment(appConfig, envName).resources)}` : '';
        return `applied to ${env.namespace}: ${action} (generation ${applied.metadata?.generation ?? '?'})${note ? ` — ${note}` : ''}${keptNote}`;
      },
    });
  },
});
