import type { V1Node } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { envArg } from '../src/command/schemas.js';
import { badInput, denied, notFound } from '../src/errors/index.js';
import type { ChannelCluster } from '../src/command/channel-clusters.js';
import { nodeScope } from '../src/policy/node-scope.js';
import { fromKubeError, kubeStatusCode } from '../src/kube/errors.js';
import { parseLabelChanges, reservedLabelProblem, type LabelChange } from '../src/kube/labels.js';
import { FIELD_MANAGER } from '../src/kube/render.js';
import { patchNodeLabels, readNodeIfExists } from '../src/kube/nodes.js';
import { write } from '../src/kube/dry-run.js';
import { context, escapeMrkdwn, section } from '../src/slack/blocks.js';
import { jobStarted, jobSucceeded } from '../src/slack/views/job-thread.js';

const MAX_CHANGES = 20;
const ATTEMPTS = 3;

const schema = z.object({
  node: z
    .string()
    .max(253, 'node is at most 253 characters')
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
      'node must be a node name (lowercase letters, digits, "-", ".")',
    ),
  changes: z
    .array(z.string())
    .min(1, 'give at least one `key=value` or `key-`')
    .max(MAX_CHANGES, `at most ${MAX_CHANGES} label changes at once`)
    .transform((tokens, issue): LabelChange[] => {
      const { changes, problems } = parseLabelChanges(tokens);
      for (const message of problems) issue.addIssue({ code: 'custom', message });
      return problems.length ? z.NEVER : changes;
    }),
  overwrite: z.boolean().default(false),
  env: envArg.optional(),
});
type Args = z.infer<typeof schema>;

const shown = (v: string | undefined) => (v === undefined ? '_(none)_' : v === '' ? '`""`' : `\`${escapeMrkdwn(v)}\``);

/** The command that puts the labels back as they were. */
function undoCommand(node: string, changes: readonly LabelChange[], before: Readonly<Record<string, string>>): string {
  const parts = changes.map((c) => (before[c.key] === undefined ? `${c.key}-` : `${c.key}=${before[c.key]}`));
  const overwrite = changes.some((c) => c.op === 'set' && before[c.key] !== undefined) ? ' --overwrite' : '';
  return `label ${node} ${parts.join(' ')}${overwrite}`;
}

/** Finds the node in the channel's clusters: exactly one must have it. */
async function findNode(
  clusters: readonly ChannelCluster[],
  name: string,
  env: string | undefined,
): Promise<{ where: ChannelCluster; node: V1Node }> {
  const found: Array<{ where: ChannelCluster; node: V1Node }> = [];
  for (const where of clusters) {
    const node = await readNodeIfExists(where.cluster, name);
    if (node) found.push({ where, node });
  }
  if (found.length === 0) {
    throw notFound(`There is no node \`${name}\`${env ? ` in the cluster of \`${env}\`` : ''}. \`/k8s nodes\` lists the nodes.`);
  }
  if (found.length > 1) {
    const envs = found.map((f) => `\`${f.where.environments[0]}\``).join(', ');
    throw badInput(`Node \`${name}\` exists in ${found.length} clusters; say which one with \`--env\` (${envs}).`);
  }
  return found[0]!;
}

export default defineVerb<Args>({
  verb: 'label',
  summary: 'Set (key=value) or remove (key-) labels on a node',
  usage: 'label <node> key=value... | key- [--overwrite] [--env E]',
  example: 'label node-1 pool=batch gpu-',
  class: 'admin',
  runsIn: 'worker',
  makesRevision: false,
  positionals: ['node', 'changes...'],
  flags: { overwrite: 'boolean', env: 'value' },
  schema,
  // A node belongs to a cluster: the channel must be bound to every environment on it, and the strictest approval applies.
  target: () => ({}),
  scope: ({ env }, config, channelId) => nodeScope(config, channelId, env),
  check: ({ changes }, config) => {
    const problems = changes.map((c) => reservedLabelProblem(c.key, config.nodeLabels.allow)).filter((p): p is string => p !== undefined);
    if (problems.length) throw denied(`${problems.join('; ')}. Nothing was changed.`);
  },
  describe: ({ node, changes }) =>
    `label node ${node} ${changes.map((c) => (c.op === 'set' ? `${c.key}=${c.value}` : `${c.key}-`)).join(' ')}`,
  async run(ctx) {
    const { node: name, changes, overwrite, env } = ctx.args;
    const title = `label node ${name}`;
    const started = Date.now();
    const scope = nodeScope(ctx.config, ctx.request.channelId, env);
    const clusters: ChannelCluster[] = [{ cluster: ctx.environment(scope.envs[0]!).cluster, environments: scope.envs }];
    let { where, node } = await findNode(clusters, name, env);
    for (let attempt = 1; ; attempt++) {
      const before = node.metadata?.labels ?? {};
      const clobbered = changes.filter((c) => c.op === 'set' && before[c.key] !== undefined && before[c.key] !== c.value);
      if (clobbered.length && !overwrite) {
        throw badInput(
          `${clobbered.map((c) => `\`${c.key}\` already is ${shown(before[c.key])}`).join('; ')} on node \`${name}\`. Add \`--overwrite\` to change ${clobbered.length === 1 ? 'it' : 'them'}.`,
        );
      }
      const effective = changes.filter((c) => (c.op === 'set' ? before[c.key] !== c.value : c.key in before));
      if (effective.length === 0) {
        await ctx.reply({ text: `Nothing to change: node \`${name}\` already has those labels.` });
        return;
      }
      // Checked and about to change: from here on the channel sees it, in a thread like every change.
      if (!ctx.progress.threadTs) await ctx.progress.start(jobStarted(title, ctx.request.userId));
      const labels = Object.fromEntries(effective.map((c) => [c.key, c.op === 'set' ? c.value : null]));
      try {
        // Merge patch: null removes a label. The resourceVersion makes it fail rather than act on labels changed meanwhile.
        const live = node;
        const after = await write(
          { dryRun: ctx.dryRun },
          { kind: 'Node', name },
          async () => live,
          (dry) => patchNodeLabels(where.cluster, name, labels, live.metadata?.resourceVersion, FIELD_MANAGER, dry),
        );
        if (ctx.dryRun) return;
        const now = after.metadata?.labels ?? {};
        const lines = changes.map((c) => {
          if (!effective.includes(c))
            return `• \`${escapeMrkdwn(c.key)}\`: ${c.op === 'set' ? `already ${shown(before[c.key])}` : 'was not set'}`;
          return `• \`${escapeMrkdwn(c.key)}\`: ${shown(before[c.key])} → ${c.op === 'remove' ? '_(removed)_' : shown(now[c.key])}`;
        });
        const text = `Labels of node \`${name}\`:\n${lines.join('\n')}`;
        await ctx.progress.finish(
          'succeeded',
          jobSucceeded(
            `${title}: ${effective.map((c) => (c.op === 'set' ? `${c.key}=${c.value}` : `${c.key} removed`)).join(', ')}`,
            ctx.request.userId,
            Date.now() - started,
          ),
          {
            text,
            blocks: [
              section(text),
              context(
                `cluster \`${where.cluster.name}\` (${where.environments.join(', ')}) · \`/k8s nodes\` shows every node's labels · undo with \`/k8s ${undoCommand(name, effective, before)}\``,
              ),
            ],
          },
        );
        return;
      } catch (err) {
        const code = kubeStatusCode(err);
        if (code === 403) {
          throw denied(
            `The bot may not change node labels in cluster \`${where.cluster.name}\`: ops must grant it with the \`components/node-labels\` Kustomize component (deploy/README.md). Nothing was changed.`,
          );
        }
        if (code !== 409 || attempt >= ATTEMPTS) throw fromKubeError(err, `node ${name}`);
        // Someone (often the kubelet) changed the node meanwhile: read it again and re-check.
        ({ where, node } = await findNode([where], name, env));
      }
    }
  },
});
