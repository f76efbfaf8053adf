import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { kubeCall } from './errors.js';
import { LABEL_APP } from './render.js';

/** The pods of an app (by its `app.kubernetes.io/name` label), or of the whole namespace. */
export async function listPods(cluster: ClusterClient, namespace: string, app?: string): Promise<V1Pod[]> {
  const list = await kubeCall(
    cluster.core.listNamespacedPod({ namespace, ...(app ? { labelSelector: `${LABEL_APP}=${app}` } : {}) }),
    `pods${app ? ` of ${app}` : ''} in namespace ${namespace}`,
  );
  return list.items;
}

/** The pods a workload selects (its `spec.selector` as a label selector), e.g. of an adopted workload. */
export async function listPodsBySelector(cluster: ClusterClient, namespace: string, labelSelector: string, what: string): Promise<V1Pod[]> {
  const list = await kubeCall(
    cluster.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    `pods of ${what} in namespace ${namespace}`,
  );
  return list.items;
}
