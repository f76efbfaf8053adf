import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { nameArg } from '../src/command/schemas.js';
import { fromKubeError } from '../src/kube/errors.js';
import { LABEL_APP } from '../src/kube/render.js';
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
      const deployment = await cluster.apps
        .readNamespacedDeployment({ name: app, namespace })
        .catch((err) => Promise.reject(fromKubeError(err, `deployment ${app} in namespace ${namespace}`, `has it been deployed? Try \`/k8s deploy ${app} ${envName}\``)));
      const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `${LABEL_APP}=${app}` }).catch((err) => Promise.reject(fromKubeError(err, `pods of ${app} in namespace ${namespace}`)));
      await ctx.reply(deploymentStatusView(envName, deployment, pods.items));
      return;
    }
    const [deployments, pods] = await Promise.all([
      cluster.apps.listNamespacedDeployment({ namespace }),
      cluster.core.listNamespacedPod({ namespace }),
    ]).catch((err) => Promise.reject(fromKubeError(err, `namespace ${namespace}`)));
    await ctx.reply(environmentStatusView(envName, namespace, deployments.items, pods.items));
  },
});
