/**
 * A controller's pod create as the apiserver answers it: the admission refusal (a missing service account) and the
 * retry of a controller that was refused (the real work queue re-queues it with a rate-limited back-off).
 */
import { serviceAccountRefusal } from './service-accounts.js';
import type { Store } from './store.js';

/** Sync a queue item (`rs|ns|name`, `sts|…`, `ds|…`) again after a back-off while its pod creates are refused. */
export interface CreateRetry {
  failed(item: string): void;
  succeeded(item: string): void;
}

/**
 * Why the apiserver refuses this pod, or undefined. The controllers send a generateName (ReplicaSet, DaemonSet) or a
 * fixed name (StatefulSet); `sentName` is what the request carried, as the refusal quotes it.
 */
export function podCreateRefusal(store: Store, pod: any, sent: { name?: string; generateName?: string }): string | undefined {
  return serviceAccountRefusal(store, pod.metadata.namespace, { metadata: sent, spec: pod.spec })?.message;
}
