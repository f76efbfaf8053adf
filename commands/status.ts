import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { nameArg } from '../src/command/schemas.js';
import { appTarget, listServingWorkloads, readAppWorkload } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { keptForSwitchBack } from '../src/canary/blue-green.js';
import { selectsPod } from '../src/kube/workloads/list.js';
import { listPods, listPodsBySelector } from '../src/kube/pods.js';
import { podSelector } from '../src/kube/workloads/types.js';
import { asDeploymentView } from '../src/kube/workloads/view.js';
import { deploymentStatusView, environmentStatusView } from '../src/slack/views/status.js';
import { appForEnvironment } from '../src/kube/render.js';
import { readOverride } from '../src/kube/workloads/resource-override.js';
import { overrideStatusLine } from '../src/slack/views/resource-override.js';

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
  check: ({ app }, config) => {
    if (app) requireApp(config, app);
  },
  describe: ({ app, env }) => (app ? `status of ${app} in ${env}` : `status of ${env}`),
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const env = ctx.environment(envName);
    const { namespace, cluster } = env;
    if (app) {
      const t = appTarget(ctx, app, envName);
      const live = await readAppWorkload(t);
      const pods = await listPodsBySelector(cluster, namespace, podSelector(live), app);
      // A rendered app's requests and limits set in chat override its config until `resources --reset`: say so.
      const override = t.target.adopted ? undefined : readOverride(live);
      const notes = override ? [overrideStatusLine(app, envName, override, appForEnvironment(t.appConfig, envName).resources)] : [];
      await ctx.reply(deploymentStatusView(envName, asDeploymentView(live), pods, Date.now(), notes));
      return;
    }
    // Every kind of workload, of the configured apps only (the bot acts on nothing else): the one that serves.
    const [{ serving, listed }, pods] = await Promise.all([listServingWorkloads(ctx.config, env), listPods(cluster, namespace)]);
    const rows = await Promise.all(
      serving.map(async ({ target, live, image, color }) => {
        // What the release that made this colour serve keeps for switching back, while it does.
        const kept = color ? await keptForSwitchBack(ctx.services, envName, target.app, target.name) : undefined;
        return {
          app: target.app,
          kind: target.kind,
          workload: asDeploymentView(live),
          image,
          ...(color ? { serving: { color, ...(kept ? { kept } : {}) } } : {}),
          ...(!target.adopted && readOverride(live) ? { overridden: true } : {}),
        };
      }),
    );
    const theirs = pods.filter((p) => listed.some(({ live }) => selectsPod(live, p)));
    await ctx.reply(environmentStatusView(envName, namespace, rows, theirs));
  },
});
