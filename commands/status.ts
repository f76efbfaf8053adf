import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { nameArg } from '../src/command/schemas.js';
import { listDeployments, readDeployment } from '../src/kube/deployments.js';
import { listPods } from '../src/kube/pods.js';
import { deploymentStatusView, environmentStatusView } from '../src/slack/views/status.js';

/** `status <app> <env>` or `status <env>`: the first word is the env when it is alone. */
const schema = z
  .object({ first: nameArg('app or environment'), second: nameArg('environment').optional() })
  .transform(({ first, second }) => (second ? { app: first, env: second } : { env: first }));
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'status',
  summary: 'Replicas, images, conditions and pods of an app, or of every app in an environment',
  usage: 'status <app> <env> | status <env>',
  example: 'status myapp beta',
  class: 'read',
  runsIn: 'worker',
  positionals: ['first', 'second?'],
  schema,
  target: ({ app, env }) => ({ env, ...(app ? { app } : {}) }),
  describe: ({ app, env }) => (app ? `status of ${app} in ${env}` : `status of ${env}`),
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const env = ctx.environment(envName);
    const { namespace, cluster } = env;
    if (app) {
      const deployment = await readDeployment(cluster, namespace, app, envName, `has it been deployed? Try \`/k8s deploy ${app} ${envName}\``);
      const pods = await listPods(cluster, namespace, app);
      await ctx.reply(deploymentStatusView(envName, deployment, pods));
      return;
    }
    const [deployments, pods] = await Promise.all([listDeployments(cluster, namespace), listPods(cluster, namespace)]);
    await ctx.reply(environmentStatusView(envName, namespace, deployments, pods));
  },
});
