import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { promoteFully, promoteStep } from '../src/canary/lifecycle.js';
import { blueGreenStore, finishBlueGreen } from '../src/canary/blue-green.js';
import { requireApp } from '../src/config/lookup.js';

const schema = z.object({ app: appArg, env: envArg, full: z.boolean().optional() });
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'promote',
  summary:
    "Move a running canary to its next step, or with --full roll the stable Deployment to the canary's version and drop the canary (after a blue/green switch: scale the old colour to 0 now)",
  usage: 'promote <app> <env> [--full]',
  example: 'promote myapp beta --full',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  flags: { full: 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  makesRevision: true,
  describe: ({ app, env, full }) =>
    full ? `promote canary or blue/green release of ${app} in ${env} fully` : `promote canary of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName, full } = ctx.args;
    const env = ctx.environment(envName);
    const blueGreen = await blueGreenStore(ctx.services).get(envName, app);
    if (blueGreen && full) return finishBlueGreen(ctx, env, blueGreen, false);
    if (full) return promoteFully(ctx, app, env);
    await promoteStep(ctx, app, env);
  },
});
