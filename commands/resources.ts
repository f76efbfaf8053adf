import { PatchStrategy } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb, type WorkerVerbContext } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appTarget, followed, readAppWorkload, rolloutTimeout, type AppTarget } from '../src/command/workload-target.js';
import { environmentOf, requireApp } from '../src/config/lookup.js';
import type { Config } from '../src/config/schema.js';
import { badInput, conflict } from '../src/errors/index.js';
import { parseQuantity } from '../src/kube/capacity.js';
import { appForEnvironment, requestAnnotations } from '../src/kube/render.js';
import { describeManager, gitopsTracker } from '../src/kube/workloads/ownership.js';
import { containersOf, findContainer } from '../src/kube/workloads/set-image.js';
import {
  FIELD_MANAGER_SET_RESOURCES,
  chatResources,
  describeResourceChange,
  mergeResources,
  requestAboveLimit,
  setResourcesPatch,
  type ResourceName,
  type ResourceSettings,
} from '../src/kube/workloads/set-resources.js';
import { checkNodeBound } from '../src/command/node-bound.js';
import { describeReset, overrideAnnotations, readOverride, resetPatch } from '../src/kube/workloads/resource-override.js';
import { describeWorkload, type AnyWorkload } from '../src/kube/workloads/types.js';
import { restartTimestamp } from '../src/kube/restart.js';
import { appWorkload } from '../src/config/apps.js';
import { escapeMrkdwn } from '../src/slack/blocks.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';

/** A quantity as typed: digits, an optional fraction and a suffix Kubernetes knows; no sign, no exponent. */
const QUANTITY_SHAPE = /^\d{1,12}(\.\d{1,9})?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** A request or limit as typed, checked with client-node's quantity parser; memory below 1Mi is a typo ("512m" are millibytes). */
export const quantityArg = (resource: ResourceName, flag: string) =>
  z
    .string()
    .max(24, `--${flag} is at most 24 characters`)
    .superRefine((q, ctx) => {
      const example = resource === 'memory' ? '512Mi or 1.5Gi' : '250m or 2';
      let value: number | undefined;
      try {
        value = QUANTITY_SHAPE.test(q) ? parseQuantity(q) : undefined;
      } catch {
        value = undefined;
      }
      if (value === undefined || !Number.isFinite(value)) {
        ctx.addIssue({ code: 'custom', message: `must be a Kubernetes quantity such as ${example}` });
      } else if (resource === 'memory' && value < 2 ** 20) {
        const hint = q.endsWith('m') ? ` (\`${q}\` is ${q.slice(0, -1)} thousandths of a byte; did you mean \`${q.slice(0, -1)}Mi\`?)` : '';
        ctx.addIssue({ code: 'custom', message: `must be at least 1Mi${hint}` });
      } else if (resource === 'cpu' && value < 0.001) {
        ctx.addIssue({ code: 'custom', message: `must be at least 1m (a thousandth of a core)` });
      }
    });

const FLAGS = {
  'memory-request': { resource: 'memory', side: 'requests' },
  'memory-limit': { resource: 'memory', side: 'limits' },
  'cpu-request': { resource: 'cpu', side: 'requests' },
  'cpu-limit': { resource: 'cpu', side: 'limits' },
} as const;
type Flag = keyof typeof FLAGS;
const FLAG_NAMES = Object.keys(FLAGS) as Flag[];

const schema = z
  .object({
    app: appArg,
    env: envArg,
    'memory-request': quantityArg('memory', 'memory-request').optional(),
    'memory-limit': quantityArg('memory', 'memory-limit').optional(),
    'cpu-request': quantityArg('cpu', 'cpu-request').optional(),
    'cpu-limit': quantityArg('cpu', 'cpu-limit').optional(),
    reset: z.boolean().optional(),
  })
  .transform((raw, ctx) => {
    if (raw.reset) {
      if (FLAG_NAMES.some((f) => raw[f] !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          message: "give `--reset` alone (it goes back to the values in the bot's config), or values to set",
        });
        return z.NEVER;
      }
      return { app: raw.app, env: raw.env, change: {} as ResourceSettings, reset: true };
    }
    const change: ResourceSettings = {};
    for (const flag of FLAG_NAMES) {
      const value = raw[flag];
      if (value === undefined) continue;
      const { resource, side } = FLAGS[flag];
      change[side] = { ...change[side], [resource]: value };
    }
    if (!change.requests && !change.limits) {
      ctx.addIssue({ code: 'custom', message: `give at least one of ${FLAG_NAMES.map((f) => `--${f}`).join(', ')}, or \`--reset\`` });
      return z.NEVER;
    }
    return { app: raw.app, env: raw.env, change, reset: false };
  });
type Args = z.infer<typeof schema>;

/** Every value set must be within the environment's `limits`, and a request given with its limit must not exceed it. */
function checkBounds({ env, change }: Args, config: Config): void {
  const bounds = environmentOf(config, env)?.limits;
  for (const side of ['requests', 'limits'] as const) {
    for (const [resource, q] of Object.entries(change[side] ?? {})) {
      const max = resource === 'memory' ? bounds?.maxMemory : bounds?.maxCpu;
      if (max !== undefined && parseQuantity(q) > parseQuantity(max)) {
        const key = resource === 'memory' ? 'maxMemory' : 'maxCpu';
        throw badInput(
          `\`${env}\` allows at most ${max} for a ${resource} ${side === 'requests' ? 'request' : 'limit'} (\`environments.${env}.limits.${key}\` in the bot's config); you asked for ${q}. Nothing was changed.`,
        );
      }
    }
  }
  const problem = requestAboveLimit(mergeResources(undefined, change));
  if (problem) throw badInput(`The ${problem}: Kubernetes refuses a request above its limit. Nothing was changed.`);
}

/** The live workload and container to change, checked before anything is written (the largest node bounding every value). */
async function resolve(t: AppTarget, args: Args, config: Config) {
  const live = await readAppWorkload(t);
  const what = describeWorkload(t.target.kind, t.target.name, t.env.namespace);
  const container = findContainer(live, t.target.container) ?? (t.target.adopted ? undefined : containersOf(live)[0]);
  if (!container) {
    const names = containersOf(live)
      .map((c) => `\`${escapeMrkdwn(c.name)}\``)
      .join(', ');
    throw badInput(
      `${what} has no container \`${t.target.container}\` (it has ${names}); fix \`apps.${t.target.app}.workload.container\`.`,
    );
  }
  if (t.target.adopted) {
    const tracker = gitopsTracker(live);
    if (tracker && t.appConfig.gitops !== 'allowDrift') {
      throw conflict(
        `Nothing was changed: ${describeManager(tracker, escapeMrkdwn)} manages ${what} and will put its resources back at the next sync: change them in Git instead, or set \`gitops: allowDrift\` on \`apps.${t.target.app}\` in the bot's config.`,
      );
    }
  }
  const after = mergeResources(container.resources, args.change);
  const problem = requestAboveLimit(after);
  if (problem) {
    throw badInput(
      `With this change the ${problem} in container \`${escapeMrkdwn(container.name)}\` of ${what}; Kubernetes refuses that. Give both values (e.g. also \`--${problem.split(' ')[0]}-limit\`). Nothing was changed.`,
    );
  }
  // A rendered app: the chat-set values are kept on the workload and merged over the config's by every deploy.
  let kept: ResourceSettings | undefined;
  if (!t.target.adopted) {
    kept = mergeResources(chatResources(live), args.change);
    const rendered = mergeResources(appForEnvironment(t.appConfig, args.env).resources, kept);
    const renderedProblem = requestAboveLimit(rendered);
    if (renderedProblem) {
      throw badInput(
        `The next deploy would set the ${renderedProblem} (the bot's config with this change); Kubernetes refuses that. Give both values. Nothing was changed.`,
      );
    }
  }
  await checkNodeBound({ cluster: t.env.cluster, env: args.env, config, change: args.change, container });
  return { live, container, kept, what };
}

function title({ app, env, change, reset }: Args): string {
  if (reset) return `resources ${app} in ${env}: back to the bot's config`;
  return `resources ${app} in ${env}: ${describeResourceChange(undefined, change)
    .map((l) => l.replace('none → ', '→ '))
    .join(', ')}`;
}

/** Why an adopted app has nothing to reset to. */
function refuseAdoptedReset(app: string, env: string): never {
  throw badInput(
    `\`${app}\` is adopted (\`apps.${app}.workload\`): the bot's config holds no resources for it and \`resources\` keeps no override there, so there is nothing to go back to. Set the values you want with \`/k8s resources ${app} ${env} --memory-limit …\`. Nothing was changed.`,
  );
}

/** `--reset`: the live container, the config's resources and what changes; refused when nothing would. */
async function resolveReset(t: AppTarget, env: string) {
  if (t.target.adopted) refuseAdoptedReset(t.target.app, env);
  const live = await readAppWorkload(t);
  const what = describeWorkload(t.target.kind, t.target.name, t.env.namespace);
  const container = findContainer(live, t.target.container) ?? containersOf(live)[0];
  if (!container) throw badInput(`${what} has no container. Nothing was changed.`);
  const configured = appForEnvironment(t.appConfig, env).resources;
  const override = readOverride(live);
  const lines = describeReset(container.resources, configured);
  if (!override && lines.length === 0) {
    throw badInput(
      `No resources were set from chat for \`${t.target.app}\` in \`${env}\`, and its container already has the bot's config's requests and limits: nothing to reset.`,
    );
  }
  return { live, container, configured, override, lines, what };
}

/** Patches the container (strategic merge, our field manager) and follows the rollout like a deploy; `said` words the result. */
function patchAndFollow(
  ctx: WorkerVerbContext<Args>,
  t: AppTarget,
  live: AnyWorkload,
  patch: object,
  said: (generation: string) => string,
) {
  return runRolloutJob(ctx, {
    title: title(ctx.args),
    env: t.env,
    app: ctx.args.app,
    workload: followed(t, live),
    timeoutMs: rolloutTimeout(t, live),
    offerRollback: false,
    change: async () => {
      const applied = await t.ops.patch(
        t.env.cluster,
        t.env.namespace,
        t.target.name,
        patch,
        PatchStrategy.StrategicMergePatch,
        FIELD_MANAGER_SET_RESOURCES,
        { dryRun: ctx.dryRun },
      );
      return said(String(applied.metadata?.generation ?? '?'));
    },
  });
}

async function runReset(ctx: WorkerVerbContext<Args>, t: AppTarget) {
  const { live, container, configured, override, lines, what } = await resolveReset(t, ctx.args.env);
  const patch = resetPatch(
    container.name,
    container.resources,
    configured,
    requestAnnotations(ctx.request, ctx.request.text.slice(0, 200)),
  );
  return patchAndFollow(ctx, t, live, patch, (generation) => {
    const changed = lines.length ? lines.join(', ') : "already the config's values";
    const dropped = override ? " — the override set from chat is gone: deploys use the config's resources again" : '';
    return `container ${escapeMrkdwn(container.name)} of ${what}: back to the bot's config: ${changed} (generation ${generation})${dropped}`;
  });
}

async function run(ctx: WorkerVerbContext<Args>) {
  const { app, env: envName, change } = ctx.args;
  const t = appTarget(ctx, app, envName);
  if (ctx.args.reset) return runReset(ctx, t);
  const { live, container, kept, what } = await resolve(t, ctx.args, ctx.config);
  const annotations: Record<string, string> = {
    ...requestAnnotations(ctx.request, ctx.request.text.slice(0, 200)),
    ...(kept ? overrideAnnotations(kept, ctx.request.userId, restartTimestamp(ctx.request.receivedAt)) : {}),
  };
  const lines = describeResourceChange(container.resources, change);
  return patchAndFollow(ctx, t, live, setResourcesPatch(container.name, change, annotations), (generation) => {
    const keepsNote = kept ? ` — kept by later deploys (per-environment override; \`resources ${app} ${envName} --reset\` drops it)` : '';
    return `container ${escapeMrkdwn(container.name)} of ${what}: ${lines.join(', ')} (generation ${generation})${keepsNote}`;
  });
}

export default defineVerb<Args>({
  verb: 'resources',
  summary: "Change the requests and limits of an app's container and follow the rollout",
  usage: 'resources <app> <env> [--memory-limit Q] [--memory-request Q] [--cpu-request Q] [--cpu-limit Q] | resources <app> <env> --reset',
  example: 'resources myapp beta --memory-limit 512Mi',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  flags: { 'memory-limit': 'value', 'memory-request': 'value', 'cpu-request': 'value', 'cpu-limit': 'value', reset: 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: (args, config) => {
    const appConfig = requireApp(config, args.app);
    if (args.reset && appWorkload(args.app, appConfig, args.env).adopted) refuseAdoptedReset(args.app, args.env);
    checkBounds(args, config);
  },
  describe: title,
  // What the run would refuse (a value no node has, a request above its limit) is refused before approvers are asked.
  async vet(ctx) {
    const t = appTarget(ctx, ctx.args.app, ctx.args.env);
    if (ctx.args.reset) await resolveReset(t, ctx.args.env);
    else await resolve(t, ctx.args, ctx.config);
  },
  async preview(ctx) {
    const t = appTarget(ctx, ctx.args.app, ctx.args.env);
    if (ctx.args.reset) {
      const { container, lines, override, what } = await resolveReset(t, ctx.args.env);
      return [
        `container ${container.name} of ${what}: back to the bot's config: ${lines.join(', ') || "already the config's values"}`,
        ...(override ? ['drops the override set from chat: deploys use the config again'] : []),
      ];
    }
    const { container, kept, what } = await resolve(t, ctx.args, ctx.config);
    return [
      `container ${container.name} of ${what}: ${describeResourceChange(container.resources, ctx.args.change).join(', ')}`,
      ...(kept ? ['kept by later deploys of this environment'] : []),
    ];
  },
  run,
});
