/**
 * metrics.k8s.io (metrics-server), read with client-node's `Metrics`: the
 * current memory working set of each running container of a namespace's pods.
 * An absent API (no metrics-server: 404, or 503 while its APIService is down)
 * and a refusal (403) are answers, not exceptions, so callers can say how to
 * enable it.
 */
import { Metrics } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { fromKubeError, kubeStatusCode } from './errors.js';
import { parseQuantity } from './capacity.js';

export interface ContainerMemory {
  pod: string;
  container: string;
  bytes: number;
}

export type PodMemoryResult =
  | { ok: true; containers: ContainerMemory[] }
  /** `absent`: no metrics API in the cluster (metrics-server not installed or not answering); `denied`: RBAC. */
  | { ok: false; why: 'absent' | 'denied' | 'error'; message: string };

const clients = new WeakMap<ClusterClient, Metrics>();

/** Memory of every running container of the namespace's pods: one `list pods.metrics.k8s.io` call. */
export async function listPodMemory(cluster: ClusterClient, namespace: string): Promise<PodMemoryResult> {
  let metrics = clients.get(cluster);
  if (!metrics) clients.set(cluster, (metrics = new Metrics(cluster.kubeConfig)));
  try {
    const list = await metrics.getPodMetrics(namespace);
    const containers: ContainerMemory[] = [];
    for (const item of list.items) {
      for (const c of item.containers) {
        try {
          containers.push({ pod: item.metadata.name, container: c.name, bytes: parseQuantity(c.usage.memory) });
        } catch {
          // an unparsable quantity from the API: skip that container
        }
      }
    }
    return { ok: true, containers };
  } catch (err) {
    const code = kubeStatusCode(err);
    const message = fromKubeError(err, `pod metrics (metrics.k8s.io) in namespace ${namespace}`).message;
    if (code === 404 || code === 503) return { ok: false, why: 'absent', message };
    if (code === 401 || code === 403) return { ok: false, why: 'denied', message };
    return { ok: false, why: 'error', message };
  }
}

/** When the pod started (ms), per its status; undefined when it is gone or has not started. */
export async function podStartTime(cluster: ClusterClient, namespace: string, name: string): Promise<number | undefined> {
  try {
    const pod = await cluster.core.readNamespacedPod({ name, namespace });
    const started = pod.status?.startTime;
    return started ? new Date(started).getTime() : undefined;
  } catch (err) {
    if (kubeStatusCode(err) === 404) return undefined;
    throw fromKubeError(err, `pod ${name} in namespace ${namespace}`);
  }
}
