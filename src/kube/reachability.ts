import { VersionApi } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';

/**
 * Can the cluster's API server be reached at all? An unreachable server is one
 * problem, not one per permission: callers ask this first and say it once.
 * Any HTTP answer means it was reached (/version is public; 401 is reported as
 * refused credentials, the rest is left to the permission checks).
 * Returns undefined when reachable, else a plain sentence.
 */
export async function clusterUnreachable(cluster: ClusterClient, timeoutMs = 3_000): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      cluster.kubeConfig.makeApiClient(VersionApi).getCode(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 401)
      return `cluster ${cluster.name}: the API server at ${cluster.server} refused the bot's credentials (HTTP 401): check the kubeconfig user or the service account token.`;
    if (typeof code === 'number') return undefined;
    // Network failures carry the system error code (ECONNREFUSED, ENOTFOUND, …) as a string.
    const network = typeof code === 'string' ? code : (err as { cause?: { code?: string } }).cause?.code;
    return `cluster ${cluster.name}: the API server at ${cluster.server} cannot be reached (${network ?? (err as Error).message}): is the cluster up, and is the kubeconfig context right?`;
  } finally {
    clearTimeout(timer);
  }
}
