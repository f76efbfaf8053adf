import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appTarget, readAppWorkload } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { groupEvents, summarizePodSpec } from '../src/kube/describe.js';
import { listEventsAbout } from '../src/kube/events.js';
import { workloadObjects } from '../src/kube/workloads/related.js';
import { asDeploymentView, updateStrategyLine } from '../src/kube/workloads/view.js';
import { mention, section } from '../src/slack/blocks.js';
import { inviteHint } from '../src/slack/errors.js';
import { uploadTextFile } from '../src/slack/upload.js';
import { describeView } from '../src/slack/views/describe.js';

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
    const t = appTarget(ctx, app, envName);
    const { secretKeys } = t.appConfig;
    const { namespace } = t.env;
    const live = await readAppWorkload(t);
    const { pods, names } = await workloadObjects(t.env.cluster, t.target.kind, live);
    const now = Date.now();
    const strategy = updateStrategyLine(t.target.kind, live);
    const events = groupEvents(await listEventsAbout(t.env.cluster, namespace, names), { since: now - RECENT_EVENTS_MS });
    const view = describeView({
      app,
      env: envName,
      namespace,
      deployment: asDeploymentView(live),
      kind: t.target.kind,
      ...(strategy ? { strategy } : {}),
      template: summarizePodSpec(live.spec?.template.spec, secretKeys),
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
