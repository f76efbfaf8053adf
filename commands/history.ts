import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { attributeRevisions, auditedJobs } from '../src/audit/revisions.js';
import { listReplicaSetsOf, readDeployment } from '../src/kube/deployments.js';
import { revisionsOf } from '../src/kube/history.js';
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
  describe: ({ app, env }) => `history of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const { cluster, namespace } = ctx.environment(envName);
    const deployment = await readDeployment(
      cluster,
      namespace,
      app,
      envName,
      `has it been deployed? Try \`/k8s deploy ${app} ${envName}\``,
    );
    const replicaSets = await listReplicaSetsOf(cluster, deployment);
    // Who made each revision comes from our own records; without them the revisions still show.
    const audit = await ctx.services.audit.recent({ app, env: envName, limit: AUDIT_ENTRIES }).catch((err: unknown) => {
      ctx.log.warn({ err: String(err) }, 'could not read the audit stream for history');
      return [];
    });
    const revisions = attributeRevisions(revisionsOf(deployment, replicaSets), auditedJobs(audit, ctx.verbs));
    await ctx.reply(historyView({ app, env: envName, namespace, revisions }));
  },
});
