import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { listReplicaSetsOf, readDeployment } from '../src/kube/deployments.js';
import { groupEvents, summarizePodSpec } from '../src/kube/describe.js';
import { listEventsAbout } from '../src/kube/events.js';
import { listPods } from '../src/kube/pods.js';
import { mention, section } from '../src/slack/blocks.js';
import { inviteHint } from '../src/slack/errors.js';
import { uploadTextFile } from '../src/slack/upload.js';
import { describeView } from '../src/slack/views/describe.js';
import { requireApp } from './deploy.js';

const schema = z.object({ app: appArg, env: envArg });
type Args = z.infer<typeof schema>;

/** Events older than this are left out of `describe` (use `events --since` for more). */
const RECENT_EVENTS_MS = 60 * 60 * 1_000;

export default defineVerb<Args>({
  verb: 'describe',
  summary: 'What runs and why: images, commands, env (secrets masked), resources, probes, volumes, placement, pods and recent events',
  usage: 'describe <app> <env>',
  example: 'describe myapp beta',
  class: 'read',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env }) => `describe ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const { secretKeys } = requireApp(ctx.config, app);
    const { cluster, namespace } = ctx.environment(envName);
    const deployment = await readDeployment(
      cluster,
      namespace,
      app,
      envName,
      `has it been deployed? Try \`/k8s deploy ${app} ${envName}\``,
    );
    const [pods, replicaSets] = await Promise.all([listPods(cluster, namespace, app), listReplicaSetsOf(cluster, deployment)]);
    const names = new Set([app, ...replicaSets.map((r) => r.metadata?.name ?? ''), ...pods.map((p) => p.metadata?.name ?? '')]);
    const now = Date.now();
    const events = groupEvents(await listEventsAbout(cluster, namespace, names), { since: now - RECENT_EVENTS_MS });
    const view = describeView({
      app,
      env: envName,
      namespace,
      deployment,
      template: summarizePodSpec(deployment.spec?.template.spec, secretKeys),
      pods,
      events,
      now,
    });
    if (view.fits) {
      await ctx.reply(view.message);
      return;
    }
    const filename = `describe-${app}-${envName}.txt`;
    const uploaded = await uploadTextFile(
      ctx.services.slack,
      {
        channelId: ctx.request.channelId,
        ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}),
        filename,
        title: `describe ${app} in ${envName}`,
        content: view.fullText,
        initialComment: `:page_facing_up: describe ${app} in ${envName}, for ${mention(ctx.request.userId)}`,
      },
      ctx.log,
    );
    if (uploaded.ok) {
      await ctx.reply(view.summary);
      return;
    }
    const why = uploaded.notInChannel
      ? inviteHint(ctx.request.channelId)
      : `:warning: The description is too long to show here and I could not upload it as a file (Slack answered \`${uploaded.code}\`).`;
    await ctx.reply({ text: why, blocks: [...(view.summary.blocks ?? []), section(why)] });
  },
});
