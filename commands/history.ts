import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { appTarget, readAppWorkload } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { attributeRevisions, auditedJobs } from '../src/audit/revisions.js';
import { historyView } from '../src/slack/views/history.js';

const schema = z.object({ app: appArg, env: envArg });
type Args = z.infer<typeof schema>;

/** Audit entries read to find who made each revision (newest first; the stream keeps ~10,000 in all). */
const AUDIT_ENTRIES = 500;

export default defineVerb<Args>({
  verb: 'history',
  summary: 'Rollout revisions of an app: image, when, who deployed it and from which channel',
  usage: 'history <app> <env>',
  example: 'history myapp beta',
  class: 'read',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env }) => `history of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const t = appTarget(ctx, app, envName);
    const live = await readAppWorkload(t);
    const history = await t.ops.history(t.env.cluster, live);
    // Who made each revision comes from our own records; without them the revisions still show.
    const audit = await ctx.services.audit.recent({ app, env: envName, limit: AUDIT_ENTRIES }).catch((err: unknown) => {
      ctx.log.warn({ err }, 'could not read the audit stream for history');
      return [];
    });
    const revisions = attributeRevisions(history.revisions, auditedJobs(audit, ctx.verbs));
    await ctx.reply(historyView({ app, env: envName, namespace: t.env.namespace, kind: t.target.kind, revisions }));
  },
});
