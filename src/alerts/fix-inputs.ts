/**
 * What an alert's fix is worked out from besides the diagnosis, read when a fix
 * is due: the OOMKilled container's observed memory peak (the raise goes by it)
 * and the cluster's largest node (the raise never goes above it). Read only for
 * an OOMKilled configured app: the fix is offered for nothing else, so a storm
 * of other workloads costs no reads.
 */
import { appOwningWorkload } from '../config/apps.js';
import type { Config } from '../config/schema.js';
import { largestAllocatable } from '../kube/capacity.js';
import { listNodes } from '../kube/cluster-capacity.js';
import type { ClusterClient } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import type { FixInputs } from './fixes.js';
import type { IncidentState } from './incidents.js';

export interface FixInputDeps {
  config: Config;
  /** The cluster the incident's pods are in; absent: its nodes cannot be read. */
  cluster: ClusterClient | undefined;
  observedPeak?: (incident: IncidentState) => Promise<number | undefined>;
  log: Logger;
}

export async function readFixInputs(deps: FixInputDeps, s: IncidentState): Promise<FixInputs> {
  const latest = (s.last ?? s.head).diagnosis;
  if (latest.kind !== 'OOMKilled' || appOwningWorkload(deps.config, s.workload.kind, s.workload.name) === undefined) return {};
  const [peakBytes, largestNode] = await Promise.all([
    deps.observedPeak?.(s).catch((err: unknown) => {
      deps.log.warn({ incident: s.id, err }, 'could not read the observed memory peak; the raise goes by the limit');
      return undefined;
    }),
    largestNodeMemory(deps, s),
  ]);
  return { ...(peakBytes !== undefined ? { peakBytes } : {}), ...(largestNode ? { largestNode } : {}) };
}

/** The node with the most allocatable memory; undefined when the cluster has no nodes (nothing to bound by). */
async function largestNodeMemory(deps: FixInputDeps, s: IncidentState): Promise<FixInputs['largestNode']> {
  if (!deps.cluster) return 'unread';
  try {
    const largest = largestAllocatable(await listNodes(deps.cluster), 'memory');
    return largest && { name: largest.node, memoryBytes: largest.amount };
  } catch (err) {
    deps.log.warn({ incident: s.id, err }, "could not read the cluster's nodes; no memory raise is offered until the next kill");
    return 'unread';
  }
}
