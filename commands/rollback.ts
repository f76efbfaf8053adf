import type { V1Deployment } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb, type WorkerVerbContext } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appTarget, followed, readAppWorkload, rolloutTimeout } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { FIELD_MANAGER_ROLLBACK, refusePaused } from '../src/kube/deployments.js';
import { ANNOTATION_REQUEST_ID, requestAnnotations } from '../src/kube/render.js';
import { describeRevision, type RollbackPlan } from '../src/kube/rollback.js';
import { describeManager, gitopsTracker } from '../src/kube/workloads/ownership.js';
import { conflict } from '../src/errors/index.js';
import { escapeMrkdwn } from '../src/slack/blocks.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';

const schema = z.object({
  app: appArg,
  env: envArg,
  revision: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, 'revision must be a revision number, e.g. 3 (`/k8s history` lists them)')
    .transform(Number)
    .optional(),
});
type Args = z.infer<typeof schema>;

/** Reads the app's workload and its revisions and decides, as `kubectl rollout undo` would. */
async function plan(ctx: WorkerVerbContext<Args>) {
  const { app, env: envName, revision } = ctx.args;
  const t = appTarget(ctx, app, envName);
  const live = await readAppWorkload(t);
  if (t.target.kind === 'Deployment') refusePaused(live as V1Deployment, 'a rollback');
  const tracker = t.target.adopted ? gitopsTracker(live) : undefined;
  if (tracker && t.appConfig.gitops !== 'allowDrift') {
    throw conflict(
      `Nothing was changed: ${describeManager(tracker, escapeMrkdwn)} manages this workload and would put its pod template back at its next sync: roll back in Git instead. To roll back from chat anyway until the next sync, set \`gitops: allowDrift\` on \`apps.${app}\` in the bot's config.`,
    );
  }
  const history = await t.ops.history(t.env.cluster, live);
  // This very job already rolled back (a retry after a crash): resume following it, never undo twice.
  if (live.metadata?.annotations?.[ANNOTATION_REQUEST_ID] === ctx.request.requestId) return { t, live, history, plan: undefined };
  return { t, live, history, plan: history.plan(revision) };
}

const images = (p: RollbackPlan & { kind: 'rollback' }) =>
  `${p.from ? p.from.images.join(', ') : 'the current template'} → ${p.to.images.join(', ')}`;

export default defineVerb<Args>({
  verb: 'rollback',
  summary: 'Go back to the previous (or given) revision, as `kubectl rollout undo`, and follow the rollout',
  usage: 'rollback <app> <env> [revision]',
  example: 'rollback myapp beta',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env', 'revision?'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env, revision }) => `rollback ${app} in ${env}${revision ? ` to revision ${revision}` : ''}`,
  async pin(ctx): Promise<Record<string, string>> {
    const { plan: p } = await plan(ctx);
    return p && p.kind === 'rollback' ? { revision: String(p.to.revision) } : {};
  },
  async preview(ctx) {
    const { plan: p } = await plan(ctx);
    if (!p) return ['(this rollback was already applied)'];
    if (p.kind === 'current') return [`nothing: already at revision ${describeRevision(p.to)}`];
    return [`revision ${p.from?.revision ?? '?'} → ${p.to.revision}`, `image ${images(p)}`];
  },
  async run(ctx) {
    const { app, env: envName, revision } = ctx.args;
    const { t, live, history, plan: p } = await plan(ctx);
    const retry = Boolean(ctx.progress.threadTs);
    if (p?.kind === 'current' && !retry) {
      await ctx.reply({
        text: `:information_source: Nothing to roll back: ${app} in ${envName} already runs the template of revision ${describeRevision(p.to)}.`,
      });
      return;
    }
    return runRolloutJob(ctx, {
      title: `rollback ${app} in ${envName}${revision ? ` to revision ${revision}` : ''}`,
      env: t.env,
      app,
      workload: followed(t, live),
      timeoutMs: rolloutTimeout(t, live),
      // Offering to roll back a failed rollback would only go back to the version it left.
      offerRollback: false,
      change: async () => {
        if (!p) return `already rolled back (retry of this job): following the rollout`;
        if (p.kind === 'current') return `already at revision ${describeRevision(p.to)}: following the rollout`;
        const annotations = requestAnnotations(ctx.request, `rollback ${app} ${envName} to revision ${p.to.revision}`);
        const { body, strategy } = history.rollbackPatch(p.to, annotations);
        await t.ops.patch(t.env.cluster, t.env.namespace, t.target.name, body, strategy, FIELD_MANAGER_ROLLBACK, {
          dryRun: ctx.dryRun,
        });
        return `rolled back from revision ${p.from?.revision ?? '?'} to revision ${p.to.revision} (${history.stored} ${p.to.object}): image ${images(p)}`;
      },
    });
  },
});
