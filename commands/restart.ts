import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { readDeployment, refusePaused, rolloutTimeoutMs } from '../src/kube/deployments.js';
import { restartDeployment, restartTimestamp } from '../src/kube/restart.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';

const schema = z.object({ app: appArg, env: envArg });
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'restart',
  summary: 'Rolling restart of an app\'s pods (as `kubectl rollout restart`), followed to the end',
  usage: 'restart <app> <env>',
  example: 'restart myapp beta',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  describe: ({ app, env }) => `restart ${app} in ${env}`,
  async preview(ctx) {
    const { app, env: envName } = ctx.args;
    const env = ctx.environment(envName);
    const deployment = await readDeployment(env.cluster, env.namespace, app, envName);
    return [`replace every pod of ${app} (${deployment.spec?.replicas ?? 1} replicas) in a rolling update; image and config stay as they are`];
  },
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const env = ctx.environment(envName);
    const deployment = await readDeployment(env.cluster, env.namespace, app, envName);
    refusePaused(deployment, 'a restart');
    // The request's own time: a retry of this job writes the same value, which changes nothing.
    const restartedAt = restartTimestamp(ctx.request.receivedAt);
    return runRolloutJob(ctx, {
      title: `restart ${app} in ${envName}`,
      env,
      app,
      timeoutMs: rolloutTimeoutMs(deployment),
      offerRollback: false,
      change: async () => {
        await restartDeployment(env.cluster, env.namespace, app, restartedAt);
        const replicas = deployment.spec?.replicas ?? 1;
        return `restart requested at ${restartedAt}: the pods of ${app} are replaced in a rolling update (${replicas} replica${replicas === 1 ? '' : 's'})`;
      },
    });
  },
});
