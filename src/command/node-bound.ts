/**
 * `resources`' second bound: the largest node. Whatever the environment's `limits` allow (checked
 * before the command is queued), a value no node of the cluster has — a mistyped `--memory-limit 500Gi`,
 * even under a generous `limits.maxMemory: 1Ti` — leaves the pods Pending, so it is refused here,
 * in the worker, before an approval is asked for and again before the patch; nothing is written.
 */
import type { V1Node, V1ResourceRequirements } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import { environmentOf } from '../config/lookup.js';
import { badInput, ChatOpsError, conflict, isChatOpsError } from '../errors/index.js';
import { listNodes } from '../kube/cluster-capacity.js';
import type { ClusterClient } from '../kube/clusters.js';
import { nodeFit, raisedValues, type ResourceName, type ResourceSettings } from '../kube/workloads/set-resources.js';
import { escapeMrkdwn } from '../slack/blocks.js';

const flagOf = (resource: ResourceName, side: 'requests' | 'limits') => `--${resource}-${side === 'requests' ? 'request' : 'limit'}`;
const keyOf = (resource: ResourceName) => (resource === 'memory' ? 'maxMemory' : 'maxCpu');

export interface NodeBoundInput {
  cluster: ClusterClient;
  env: string;
  config: Config;
  change: ResourceSettings;
  /** The container being changed, as it is now (its name shown escaped). */
  container: { name: string; resources?: V1ResourceRequirements };
}

/**
 * Refuses a value above the largest allocatable of the cluster's nodes, naming that node. When the
 * nodes cannot say (unreadable, or none reports the resource) only values no higher than the
 * container's current ones go through: a lower value never makes the pods harder to place, and the
 * environment's bound alone says nothing about what a node has.
 */
export async function checkNodeBound({ cluster, env, config, change, container }: NodeBoundInput): Promise<void> {
  const bounds = environmentOf(config, env)?.limits;
  const boundOf = (resource: ResourceName) => (resource === 'memory' ? bounds?.maxMemory : bounds?.maxCpu);
  let nodes: V1Node[] | undefined;
  let cause: ChatOpsError | undefined;
  try {
    nodes = await listNodes(cluster);
  } catch (err) {
    if (!isChatOpsError(err)) throw err;
    cause = err;
  }
  const fit = nodes ? nodeFit(change, nodes) : undefined;
  if (fit?.above) {
    const { side, resource, value, largest, node } = fit.above;
    const bound = boundOf(resource);
    const key = `environments.${env}.limits.${keyOf(resource)}`;
    const note = bound
      ? `(\`${key}\` allows ${bound}: the largest node is the tighter bound here.)`
      : `(\`${key}\` in the bot's config would bound \`resources\` here.)`;
    throw badInput(
      `\`${flagOf(resource, side)} ${value}\` is more than any node of \`${env}\`'s cluster has: the largest allocatable ${resource} is ${largest} (node \`${escapeMrkdwn(node)}\`), so pods asking for it would never be scheduled. Nothing was changed. ${note}`,
    );
  }
  const unknown: ResourceName[] = fit ? fit.unknown : ['cpu', 'memory'];
  const raised = raisedValues(change, container.resources, unknown)[0];
  if (!raised) return;
  const { side, resource, value, now } = raised;
  const which = `${resource} ${side === 'requests' ? 'request' : 'limit'}`;
  const had =
    now === undefined
      ? `sets a ${which} \`${escapeMrkdwn(container.name)}\` does not have now`
      : `raises the ${which} of \`${escapeMrkdwn(container.name)}\` (${escapeMrkdwn(now)} now)`;
  const why = cause
    ? `the nodes of \`${env}\`'s cluster could not be read`
    : `no node of \`${env}\`'s cluster reports allocatable ${resource}`;
  const bound = boundOf(resource);
  const boundNote = bound ? ` \`environments.${env}.limits.${keyOf(resource)}: ${bound}\` alone does not say that a node has it.` : '';
  const reading = cause ? ` Reading the nodes: ${escapeMrkdwn(cause.userMessage)}` : '';
  const message = `\`${flagOf(resource, side)} ${value}\` ${had}, and ${why}, so the bot cannot tell whether any node has that much ${resource}; pods asking for more than every node has are never scheduled, so it refuses rather than guess. Nothing was changed.${boundNote} A value no higher than the current one goes through without the nodes; for a raise, try again once they can be read.${reading}`;
  if (cause) throw new ChatOpsError(cause.kind, message, { cause, retryable: cause.retryable });
  throw conflict(message);
}
