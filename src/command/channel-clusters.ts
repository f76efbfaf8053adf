import type { WorkerVerbContext } from './types.js';
import { badInput, denied } from '../errors/index.js';
import { allowedEnvironments, bindingFor } from '../policy/index.js';
import { hasOwnKey } from '../config/lookup.js';
import type { ClusterClient } from '../kube/clusters.js';

export interface ChannelCluster {
  cluster: ClusterClient;
  /** The channel's environments on this cluster, for messages. */
  environments: string[];
}

/**
 * The clusters behind the environments this channel may touch — what cluster-wide
 * verbs (nodes, label) work on, since a node belongs to no environment. `env`
 * narrows it to that environment's cluster, and must be one the channel may touch.
 */
export function clustersForChannel(
  ctx: Pick<WorkerVerbContext<unknown>, 'config' | 'request' | 'environment'>,
  env?: string,
): ChannelCluster[] {
  const binding = bindingFor(ctx.config, ctx.request.channelId);
  const allowed = binding ? allowedEnvironments(ctx.config, binding) : [];
  if (env !== undefined) {
    if (!hasOwnKey(ctx.config.environments, env)) {
      throw badInput(
        `There is no environment \`${env}\` (known: ${Object.keys(ctx.config.environments)
          .map((e) => `\`${e}\``)
          .join(', ')}).`,
      );
    }
    if (!allowed.includes(env)) throw denied(`This channel may not touch \`${env}\`, so not its cluster either.`);
  }
  const byCluster = new Map<string, ChannelCluster>();
  for (const name of env !== undefined ? [env] : allowed) {
    const { cluster } = ctx.environment(name);
    const entry = byCluster.get(cluster.name);
    if (entry) entry.environments.push(name);
    else byCluster.set(cluster.name, { cluster, environments: [name] });
  }
  if (byCluster.size === 0) throw denied('This channel may touch no environment, so no cluster either. See `/k8s access`.');
  return [...byCluster.values()];
}
