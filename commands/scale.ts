import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { badInput } from '../src/errors/index.js';
import type { Config } from '../src/config/schema.js';
import { appTarget, followed, readAppWorkload, rolloutTimeout, type AppTarget } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import type { AnyWorkload } from '../src/kube/workloads/types.js';
import { appForEnvironment } from '../src/kube/render.js';
import { actions, context, section } from '../src/slack/blocks.js';
import { RUN_INTENT_ACTION } from '../src/command/intents.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';
import { appOf, environmentOf } from '../src/config/lookup.js';

const schema = z.object({
  app: appArg,
  env: envArg,
  replicas: z
    .string()
    .regex(/^\d{1,4}$/, 'replicas must be a whole number from 0, e.g. 3')
    .transform(Number),
  /** Confirms scaling to 0 (the confirmation button sends it). */
  yes: z.boolean().optional(),
});
type Args = z.infer<typeof schema>;

/** A confirmation button for scaling to 0 works this long. */
const CONFIRMATION_TTL_MS = 15 * 60_000;

/** 0..maxReplicas of the environment; an unknown environment is left to the policy check. */
function checkBounds({ env, replicas }: Args, config: Config): void {
  const max = environmentOf(config, env)?.maxReplicas;
  if (max !== undefined && replicas > max) {
    throw badInput(
      `\`${env}\` allows at most ${max} replicas (\`environments.${env}.maxReplicas\` in the bot's config); you asked for ${replicas}.`,
    );
  }
}

/** Reads the workload to scale; a DaemonSet has no replica count, so it is refused with the reason. */
async function scalable(t: AppTarget): Promise<{ live: AnyWorkload; current: number }> {
  const live = await readAppWorkload(t);
  if (!t.ops.scale) {
    throw badInput(
      `${t.target.app} is a DaemonSet (${t.target.name}): it runs one pod on each eligible node and has no replica count to scale. Change where it runs (its nodeSelector or tolerations), or \`/k8s restart\` it.`,
    );
  }
  return { live, current: (live.spec as { replicas?: number }).replicas ?? 1 };
}

/** Scaling to 0 without `--yes` only asks for confirmation. */
const needsConfirmation = ({ replicas, yes }: Args) => replicas === 0 && !yes;

export default defineVerb<Args>({
  verb: 'scale',
  summary: 'Set the number of replicas of an app and follow until it settles (0 asks to confirm)',
  usage: 'scale <app> <env> <replicas> [--yes]',
  example: 'scale myapp beta 3',
  class: 'write',
  runsIn: 'worker',
  makesRevision: false,
  // A rollback does not bring the replica count back: scaling again does.
  undoHint: ({ app, env }) => `To undo it afterwards, scale back with \`/k8s scale ${app} ${env} &lt;replicas&gt;\`.`,
  positionals: ['app', 'env', 'replicas'],
  flags: { yes: 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: (args, config) => {
    requireApp(config, args.app);
    checkBounds(args, config);
  },
  describe: (args) => `scale ${args.app} in ${args.env} to ${args.replicas}${needsConfirmation(args) ? ' (asks to confirm first)' : ''}`,
  changesNothing: needsConfirmation,
  async preview(ctx) {
    const { app, env: envName, replicas } = ctx.args;
    const { current } = await scalable(appTarget(ctx, app, envName));
    return [`replicas ${current} → ${replicas}${replicas === 0 ? ' (stops every pod)' : ''}`];
  },
  async run(ctx) {
    const { app, env: envName, replicas } = ctx.args;
    const t = appTarget(ctx, app, envName);
    const { env } = t;
    const { live, current } = await scalable(t);

    // A dry run shows what scaling to 0 would do; only the real change asks to confirm.
    if (needsConfirmation(ctx.args) && current !== 0 && !ctx.dryRun) {
      const id = await ctx.services.intents.create(
        {
          text: `scale ${app} ${envName} 0 --yes`,
          channelId: ctx.request.channelId,
          ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}),
        },
        CONFIRMATION_TTL_MS,
      );
      const text = `:warning: Scaling ${app} in ${envName} to 0 stops all ${current} of its pods: it serves nothing until scaled up again. Nothing has changed yet.`;
      await ctx.reply({
        text,
        blocks: [
          section(text),
          actions('scale-to-zero', [{ text: `Scale ${app} in ${envName} to 0`, actionId: RUN_INTENT_ACTION, value: id, style: 'danger' }]),
          context(`The button works for ${CONFIRMATION_TTL_MS / 60_000} minutes; \`/k8s scale ${app} ${envName} 0 --yes\` does the same.`),
        ],
      });
      return;
    }

    const appConfig = appOf(ctx.config, app);
    // An adopted app's replicas are its own: deploy never sets them.
    const configured = appConfig && !appConfig.workload ? appForEnvironment(appConfig, envName).replicas : undefined;
    const note =
      configured !== undefined && configured !== replicas
        ? ` — the next \`deploy\` sets it back to ${configured} (\`apps.${app}.replicas\` in the bot's config)`
        : '';
    return runRolloutJob(ctx, {
      title: `scale ${app} in ${envName} to ${replicas}`,
      env,
      app,
      workload: followed(t, live),
      timeoutMs: rolloutTimeout(t, live),
      offerRollback: false,
      change: async () => {
        const now = await t.ops.scale!(env.cluster, env.namespace, t.target.name, replicas, { dryRun: ctx.dryRun });
        return `${current === now ? `already at ${now} replicas` : `scaled from ${current} to ${now} replicas`}${note}`;
      },
    });
  },
});
