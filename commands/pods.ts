import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { listPods } from '../src/kube/pods.js';
import { readClusterCapacity } from '../src/kube/cluster-capacity.js';
import type { NodeCapacity } from '../src/kube/capacity.js';
import { isChatOpsError } from '../src/errors/index.js';
import { context } from '../src/slack/blocks.js';
import { podsView } from '../src/slack/views/capacity.js';

const schema = z.object({ env: envArg, app: appArg.optional() });
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'pods',
  summary: 'Pods of an environment (or of one app) grouped by node, with status, restarts and requests',
  usage: 'pods <env> [app]',
  example: 'pods beta myapp',
  class: 'read',
  runsIn: 'worker',
  positionals: ['env', 'app?'],
  schema,
  target: ({ env, app }) => ({ env, ...(app ? { app } : {}) }),
  describe: ({ env, app }) => `pods of ${app ? `${app} in ` : ''}${env}`,
  async run(ctx) {
    const { env: envName, app } = ctx.args;
    const { cluster, namespace } = ctx.environment(envName);
    const pods = await listPods(cluster, namespace, app);
    const nodeNames = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
    // How full each node is needs every pod on it, in every namespace; without that, the pods still show.
    let nodes: Map<string, NodeCapacity> | undefined;
    let nodeProblem: string | undefined;
    if (nodeNames.length > 0) {
      try {
        nodes = new Map((await readClusterCapacity(cluster, { nodeNames })).map((n) => [n.name, n]));
      } catch (err) {
        if (!isChatOpsError(err)) throw err;
        nodeProblem = err.userMessage;
        ctx.log.warn({ err: err.userMessage }, 'pods: node figures unavailable');
      }
    }
    const view = podsView({ env: envName, namespace, pods, ...(app ? { app } : {}), ...(nodes ? { nodes } : {}) });
    if (nodeProblem) view.blocks?.push(context(`:warning: Node figures left out: ${nodeProblem}`));
    await ctx.reply(view);
  },
});
