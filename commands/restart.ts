import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appTarget, followed, readAppWorkload, rolloutTimeout } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { FIELD_MANAGER_RESTART, refusePaused } from '../src/kube/deployments.js';
import { restartPatch, restartTimestamp } from '../src/kube/restart.js';
import { desiredPods } from '../src/kube/workloads/types.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';

const schema = z.object({ app: appArg, env: envArg });
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'restart',
  summary: "Rolling restart of an app's pods (as `kubectl rollout restart`), followed to the end",
  usage: 'restart <app> <env>',
  example: 'restart myapp beta',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env }) => `restart ${app} in ${env}`,
  async preview(ctx) {
    const t = appTarget(ctx, ctx.args.app, ctx.args.env);
    const live = await readAppWorkload(t);
    return [`replace every pod of ${ctx.args.app} (${desiredPods(live)} pods) in a rolling update; image and config stay as they are`];
  },
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const t = appTarget(ctx, app, envName);
    const live = await readAppWorkload(t);
    if (t.target.kind === 'Deployment') refusePaused(live as V1Deployment, 'a restart');
    // The request's own time: a retry of this job writes the same value, which changes nothing.
    const restartedAt = restartTimestamp(ctx.request.receivedAt);
    return runRolloutJob(ctx, {
      title: `restart ${app} in ${envName}`,
      env: t.env,
      app,
      workload: followed(t, live),
      timeoutMs: rolloutTimeout(t, live),
      offerRollback: false,
      change: async () => {
        await t.ops.patch(
          t.env.cluster,
          t.env.namespace,
          t.target.name,
          restartPatch(restartedAt),
          PatchStrategy.StrategicMergePatch,
          FIELD_MANAGER_RESTART,
          { dryRun: ctx.dryRun },
        );
        const pods = desiredPods(live);
        return `restart requested at ${restartedAt}: the pods of ${app} are replaced in a rolling update (${pods} pod${pods === 1 ? '' : 's'})`;
      },
    });
  },
});
