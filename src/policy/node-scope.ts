import type { Config } from '../config/schema.js';
import { environmentOf } from '../config/lookup.js';
import { badInput, denied } from '../errors/index.js';
import { allowedEnvironments, bindingFor } from './index.js';

const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ');

export interface NodeScope {
  /** `environments.<env>.cluster`, or undefined for the kubeconfig's current context. */
  cluster: string | undefined;
  /** Every configured environment on that cluster: a node serves them all. */
  envs: string[];
  reason: string;
}

/**
 * The cluster whose nodes a command from this channel works on, and every
 * environment on it. `env` names the cluster; without it the channel's
 * environments must all live on one cluster. Pure: config only.
 */
export function nodeScope(config: Config, channelId: string, env: string | undefined): NodeScope {
  let cluster: string | undefined;
  if (env !== undefined) {
    const named = environmentOf(config, env);
    if (!named) throw denied(`There is no environment \`${env}\` (known: ${list(Object.keys(config.environments))}).`);
    cluster = named.cluster;
  } else {
    const binding = bindingFor(config, channelId);
    const reachable = binding ? allowedEnvironments(config, binding) : [];
    const clusters = [...new Set(reachable.map((e) => environmentOf(config, e)?.cluster))];
    if (clusters.length === 0) throw denied('This channel may touch no environment, so no node either. See `/k8s access`.');
    if (clusters.length > 1) {
      throw badInput(`This channel reaches nodes of ${clusters.length} clusters; say which with \`--env\` (one of ${list(reachable)}).`);
    }
    cluster = clusters[0];
  }
  const envs = Object.entries(config.environments)
    .filter(([, e]) => e.cluster === cluster)
    .map(([name]) => name);
  const where = cluster === undefined ? "the kubeconfig's current context" : `cluster \`${cluster}\``;
  return { cluster, envs, reason: `A node of ${where} serves every environment on it (${list(envs)}), so changing it needs all of them` };
}
