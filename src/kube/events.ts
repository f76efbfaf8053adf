import type { CoreV1Event } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { kubeCall } from './errors.js';

/** At most this many events are read per namespace: a noisy namespace must not make `events` slow. */
const MAX_EVENTS = 2_000;

/**
 * The events about the named objects (a workload, its revisions, its pods) in
 * one namespace. The API can filter on one involved object at a time only, so
 * the namespace's events are listed once and filtered here.
 */
export async function listEventsAbout(cluster: ClusterClient, namespace: string, names: ReadonlySet<string>): Promise<CoreV1Event[]> {
  const list = await kubeCall(cluster.core.listNamespacedEvent({ namespace, limit: MAX_EVENTS }), `events in namespace ${namespace}`);
  return list.items.filter((e) => names.has(e.involvedObject.name ?? ''));
}
