import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.js';

/** `unknown` when Redis refuses CONFIG (managed services often do) or does not answer. */
export type EvictionPolicy = string;

const TIMEOUT_MS = 1_000;

/**
 * Redis's `maxmemory-policy`. BullMQ keeps jobs, locks and our approvals as
 * ordinary keys: under any policy but `noeviction`, memory pressure deletes them.
 */
export async function readEvictionPolicy(client: Redis | Cluster): Promise<EvictionPolicy> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      client.call('CONFIG', 'GET', 'maxmemory-policy'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS);
      }),
    ]);
    // RESP2 answers [name, value]; RESP3 a map.
    const value: unknown = Array.isArray(answer)
      ? answer[answer.indexOf('maxmemory-policy') + 1]
      : (answer as Record<string, unknown> | null)?.['maxmemory-policy'];
    return typeof value === 'string' && value !== '' ? value : 'unknown';
  } catch {
    return 'unknown';
  } finally {
    clearTimeout(timer);
  }
}

/** What to tell operators about a policy, or undefined when it is `noeviction`. */
export function evictionWarning(policy: EvictionPolicy): string | undefined {
  if (policy === 'noeviction') return undefined;
  if (policy === 'unknown') {
    return 'Could not read Redis maxmemory-policy (CONFIG GET refused or no answer): make sure it is noeviction, or Redis may delete queued jobs, approvals and locks when memory runs short.';
  }
  return `Redis maxmemory-policy is "${policy}", not noeviction: when memory runs short Redis deletes keys, and with them queued jobs, approval requests and per-app locks (a change may run twice or never). Set maxmemory-policy noeviction.`;
}

/**
 * Reads the policy at every (re)connection and warns loudly when it is not
 * `noeviction`; `current()` is the last answer (for /readyz).
 */
export function watchEvictionPolicy(client: Redis, log: Logger): { current(): EvictionPolicy; refresh(): Promise<EvictionPolicy> } {
  let current: EvictionPolicy = 'unknown';
  const refresh = async () => {
    current = await readEvictionPolicy(client);
    return current;
  };
  const check = async () => {
    const policy = await refresh();
    const warning = evictionWarning(policy);
    if (warning) log.error({ maxmemoryPolicy: policy }, warning);
    else log.info({ maxmemoryPolicy: policy }, 'Redis maxmemory-policy is noeviction');
  };
  client.on('ready', () => void check());
  if (client.status === 'ready') void check();
  return { current: () => current, refresh };
}
