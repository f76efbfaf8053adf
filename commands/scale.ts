import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { badInput } from '../src/errors/index.js';
import type { Config } from '../src/config/schema.js';
import { readDeployment, rolloutTimeoutMs, scaleDeployment } from '../src/kube/deployments.js';
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
    throw badInput(`\`${env}\` allows at most ${max} replicas (\`environments.${env}.maxReplicas\` in the bot's config); you asked for ${replicas}.`);
  }
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
  positionals: ['app', 'env', 'replicas'],
  flags: { yes: 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: checkBounds,
  describe: (args) => `scale ${args.app} in ${args.env} to ${args.replicas}${needsConfirmation(args) ? ' (asks to confirm first)' : ''}`,
  changesNothing: needsConfirmation,
  async preview(ctx) {
    const { app, env: envName, replicas } = ctx.args;
    const env = ctx.environment(envName);
    const deployment = await readDeployment(env.cluster, env.namespace, app, envName);
    return [`replicas ${deployment.spec?.replicas ?? 1} → ${replicas}${replicas === 0 ? ' (stops every pod)' : ''}`];
  },
  async run(ctx) {
    const { app, env: envName, replicas } = ctx.args;
    const env = ctx.environment(envName);
    const deployment = await readDeployment(env.cluster, env.namespace, app, envName);
    const current = deployment.spec?.replicas ?? 1;

    if (needsConfirmation(ctx.args) && current !== 0) {
      const id = await ctx.services.intents.create(
        { text: `scale ${app} ${envName} 0 --yes`, channelId: ctx.request.channelId, ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}) },
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
    const configured = appConfig ? appForEnvironment(appConfig, envName).replicas : undefined;
    const note =
      configured !== undefined && configured !== replicas
        ? ` — the next \`deploy\` sets it back to ${configured} (\`apps.${app}.replicas\` in the bot's config)`
        : '';
    return runRolloutJob(ctx, {
      title: `scale ${app} in ${envName} to ${replicas}`,
      env,
      app,
      timeoutMs: rolloutTimeoutMs(deployment),
      offerRollback: false,
      change: async () => {
        const now = await scaleDeployment(env.cluster, env.namespace, app, replicas);
        return `${current === now ? `already at ${now} replicas` : `scaled from ${current} to ${now} replicas`}${note}`;
      },
    });
  },
});
