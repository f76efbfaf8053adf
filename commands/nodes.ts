import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { envArg } from '../src/command/schemas.js';
import { isChatOpsError } from '../src/errors/index.js';
import { clustersForChannel } from '../src/command/channel-clusters.js';
import { CURRENT_CONTEXT } from '../src/kube/clusters.js';
import { readClusterCapacity } from '../src/kube/cluster-capacity.js';
import { MAX_SELECTOR_LENGTH, labelSelectorProblem } from '../src/kube/labels.js';
import { nodesView, type ClusterNodes } from '../src/slack/views/capacity.js';

const schema = z.object({
  /** The selector may contain spaces (`zone in (a, b)`): the words are joined back. */
  selector: z
    .array(z.string())
    .max(20, 'the label selector is at most 20 words')
    .transform((words) => words.join(' ').trim())
    .pipe(
      z
        .string()
        .max(MAX_SELECTOR_LENGTH, `the label selector is at most ${MAX_SELECTOR_LENGTH} characters`)
        .superRefine((s, issue) => {
          const problem = s ? labelSelectorProblem(s) : undefined;
          if (problem) issue.addIssue({ code: 'custom', message: problem });
        }),
    ),
  env: envArg.optional(),
});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'nodes',
  summary: 'Nodes with their labels, requested vs allocatable CPU and memory, pod counts and conditions (Ready, pressures)',
  usage: 'nodes [label-selector] [--env E]',
  example: 'nodes topology.kubernetes.io/zone=zone-a',
  class: 'read',
  runsIn: 'worker',
  positionals: ['selector...'],
  flags: { env: 'value' },
  schema,
  target: ({ env }) => (env ? { env } : {}),
  describe: ({ selector }) => `nodes${selector ? ` matching ${selector}` : ''}`,
  async run(ctx) {
    const { selector, env } = ctx.args;
    const clusters = clustersForChannel(ctx, env);
    // One cluster that cannot be read does not hide the others.
    const results: ClusterNodes[] = await Promise.all(
      clusters.map(async ({ cluster, environments }): Promise<ClusterNodes> => {
        const name = `${cluster.name === CURRENT_CONTEXT ? 'current context' : cluster.name} (${environments.join(', ')})`;
        try {
          return { cluster: name, nodes: await readClusterCapacity(cluster, selector ? { labelSelector: selector } : {}) };
        } catch (err) {
          if (clusters.length === 1 || !isChatOpsError(err)) throw err;
          return { cluster: name, nodes: [], error: err.userMessage };
        }
      }),
    );
    await ctx.reply(nodesView(results, selector || undefined));
  },
});
