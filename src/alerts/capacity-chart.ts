/**
 * The node-capacity chart in an Unschedulable alert's thread, posted by the
 * same `chart` job as the OOMKilled memory chart: per node, CPU and memory
 * requested as a share of allocatable, with the pending pod's request marked.
 * Drawn only when it helps: the scheduler said CPU or memory is short, the
 * cluster has at most `CAPACITY_CHART_MAX_NODES` nodes, and the bot may count
 * the pods of every namespace (otherwise the bars would understate the room taken).
 */
import { CAPACITY_CHART_MAX_NODES, renderCapacityChart } from '../charts/capacity-chart.js';
import { cpuMillis, memoryBytes } from '../kube/capacity.js';
import { readClusterCapacity } from '../kube/cluster-capacity.js';
import type { WebClient } from '@slack/web-api';
import type { ClusterClient } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import type { Diagnosis } from './diagnose.js';
import type { IncidentState } from './incidents.js';

/** What posting the chart needs (the chart job's deps, see chart.ts). */
export interface CapacityChartDeps {
  cluster(name: string): ClusterClient | undefined;
  slack: WebClient;
  send<T>(channel: string, method: string, call: () => Promise<T>): Promise<T>;
  log: Logger;
}

/** Is the capacity chart useful for this diagnosis? */
export function wantsCapacityChart(d: Diagnosis): boolean {
  return (
    d.kind === 'Unschedulable' &&
    (d.fit?.scarce.length ?? 0) > 0 &&
    d.nodeCount > 0 &&
    d.nodeCount <= CAPACITY_CHART_MAX_NODES &&
    !d.countedNamespaces
  );
}

/** Reads the nodes' capacity now, renders the chart and shares it in the incident's thread. */
export async function postCapacityChart(deps: CapacityChartDeps, s: IncidentState & { ts: string }): Promise<void> {
  const occ = s.last ?? s.head;
  const d = occ.diagnosis;
  if (d.kind !== 'Unschedulable' || !wantsCapacityChart(d)) return;
  const cluster = deps.cluster(s.cluster);
  if (!cluster) return;
  const capacity = await readClusterCapacity(cluster);
  if (capacity.length === 0 || capacity.length > CAPACITY_CHART_MAX_NODES) {
    deps.log.info({ incident: s.id, nodes: capacity.length }, 'no capacity chart: no nodes, or too many to draw');
    return;
  }
  const pod = { cpuMillis: cpuMillis(d.requests.cpu), memoryBytes: memoryBytes(d.requests.memory) };
  const t0 = performance.now();
  const png = await renderCapacityChart({
    title: `${s.env} · ${s.workload.kind.toLowerCase()} ${s.workload.name} · node capacity`,
    subtitle: `pending pod ${occ.pod} asks ${d.requests.cpu} CPU, ${d.requests.memory} memory · scheduler: insufficient ${d.fit!.scarce.join(', ')}`,
    nodes: capacity.map((n) => ({
      name: n.name,
      requested: n.requested,
      allocatable: n.allocatable,
      usable: n.ready && !n.unschedulable,
    })),
    pod,
  });
  const renderMs = Math.round(performance.now() - t0);
  await deps.send(s.channel, 'files.completeUploadExternal', () =>
    deps.slack.filesUploadV2({
      channel_id: s.channel,
      thread_ts: s.ts,
      file: png,
      filename: `capacity-${occ.pod}.png`,
      title: `Node capacity for ${occ.pod}`,
    }),
  );
  deps.log.info({ incident: s.id, nodes: capacity.length, renderMs, bytes: png.length }, 'posted the capacity chart');
}
