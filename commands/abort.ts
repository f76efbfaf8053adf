import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appWorkload } from '../src/config/apps.js';
import { abortCanary } from '../src/canary/lifecycle.js';
import { blueGreenStore, finishBlueGreen, switchBack } from '../src/canary/blue-green.js';
import { requireApp } from '../src/config/lookup.js';

const schema = z.object({
  app: appArg,
  env: envArg,
  // Set only by the bot's own jobs (auto-abort, maxDuration): no flag reaches them from chat.
  auto: z.string().max(500).optional(),
  canary: z.string().max(64).optional(),
  // The blue/green release whose keep period ended (a delayed job of the bot's).
  finish: z.string().max(64).optional(),
});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'abort',
  summary:
    'Drop the running canary of an app (its Deployment is removed, the stable one stays as it was), or switch a blue/green release back',
  usage: 'abort <app> <env>',
  example: 'abort myapp beta',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  // Removing the canary the bot made never waits for approval.
  onlyCleansUp: () => true,
  makesRevision: false,
  describe: ({ app, env, finish }) =>
    finish ? `end blue/green switch-back period of ${app} in ${env}` : `abort canary or blue/green switch of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName, auto, canary, finish } = ctx.args;
    const env = ctx.environment(envName);
    const blueGreen = await blueGreenStore(ctx.services).get(envName, app);
    if (finish) {
      if (blueGreen?.id === finish) await finishBlueGreen(ctx, env, blueGreen, true);
      return;
    }
    if (blueGreen && !canary) return switchBack(ctx, env, blueGreen);
    const stableName = appWorkload(app, requireApp(ctx.config, app), envName).name;
    return abortCanary(ctx, {
      app,
      env,
      stableName,
      ...(auto ? { auto } : {}),
      ...(canary ? { canary } : {}),
    });
  },
});
