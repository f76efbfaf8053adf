/**
 * What an alert's fix is worked out from besides the diagnosis, read when a fix
 * is due: the OOMKilled container's observed memory peak (the raise goes by it)
 * and the cluster's nodes (the raise never goes above what fits one). Read only
 * for an OOMKilled configured app: the fix is offered for nothing else, so a
 * storm of other workloads costs no reads.
 */
import { appOwningWorkload } from '../config/apps.js';
import type { Config } from '../config/schema.js';
import { WORKLOAD_KINDS, type WorkloadKind } from '../config/workload-schema.js';
import { largestAllocatable } from '../kube/capacity.js';
import { listNodes, readClusterCapacity } from '../kube/cluster-capacity.js';
import type { ClusterClient } from '../kube/clusters.js';
import { workloadOps } from '../kube/workloads/kinds.js';
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
  const [peakBytes, nodes] = await Promise.all([
    deps.observedPeak?.(s).catch((err: unknown) => {
      deps.log.warn({ incident: s.id, err }, 'could not read the observed memory peak; the raise goes by the limit');
      return undefined;
    }),
    readNodes(deps.cluster, s, latest.container).catch((err: unknown) => {
      deps.log.warn({ incident: s.id, err }, "could not read the cluster's nodes; no memory raise is offered until the next kill");
      return { largestNode: 'unread' as const };
    }),
  ]);
  return { ...(peakBytes !== undefined ? { peakBytes } : {}), ...nodes };
}

/**
 * The node with the most allocatable memory (none when the cluster has none: nothing to bound by),
 * and when the workload's template gives the container a memory limit but no request (its pods then
 * ask the scheduler for their limit), the ready, schedulable node with the most free memory.
 */
async function readNodes(cluster: ClusterClient | undefined, s: IncidentState, container: string): Promise<FixInputs> {
  if (!cluster) return { largestNode: 'unread' };
  if (!(await requestFollowsLimit(cluster, s, container))) {
    const largest = largestAllocatable(await listNodes(cluster), 'memory');
    return largest ? { largestNode: { name: largest.node, memoryBytes: largest.amount } } : {};
  }
  const nodes = await readClusterCapacity(cluster);
  if (nodes.length === 0) return {};
  const largest = nodes.reduce((a, b) => (b.allocatable.memoryBytes > a.allocatable.memoryBytes ? b : a));
  const usable = nodes.filter((n) => n.ready && !n.unschedulable && n.free.pods >= 1);
  const roomiest = usable.reduce<(typeof usable)[number] | undefined>(
    (a, b) => (!a || b.free.memoryBytes > a.free.memoryBytes ? b : a),
    undefined,
  );
  return {
    largestNode: { name: largest.name, memoryBytes: largest.allocatable.memoryBytes },
    requestFollows: roomiest ? { node: roomiest.name, freeBytes: roomiest.free.memoryBytes } : { freeBytes: 0 },
  };
}

/** Does the workload's pod template set the container's memory limit without a request? */
async function requestFollowsLimit(cluster: ClusterClient, s: IncidentState, container: string): Promise<boolean> {
  const kind = WORKLOAD_KINDS.find((k: WorkloadKind) => k === s.workload.kind);
  if (!kind) return false;
  const live = await workloadOps(kind).read(cluster, s.namespace, s.workload.name);
  const spec = live.spec?.template.spec?.containers.find((c) => c.name === container);
  return spec?.resources?.limits?.memory !== undefined && spec.resources.requests?.memory === undefined;
}
