import { PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { FIELD_MANAGER } from './render.js';
import { fromKubeError } from './errors.js';

const applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** Server-side apply under our own field manager; creates the object if absent. */
export async function applyDeployment(cluster: ClusterClient, body: V1Deployment): Promise<V1Deployment> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await cluster.apps.patchNamespacedDeployment({ name, namespace, body, fieldManager: FIELD_MANAGER, force: true }, applyOptions);
  } catch (err) {
    throw fromKubeError(err, `deployment ${name} in namespace ${namespace}`);
  }
}

export async function applyService(cluster: ClusterClient, body: V1Service): Promise<V1Service> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await cluster.core.patchNamespacedService({ name, namespace, body, fieldManager: FIELD_MANAGER, force: true }, applyOptions);
  } catch (err) {
    throw fromKubeError(err, `service ${name} in namespace ${namespace}`);
  }
}

export async function applyConfigMap(cluster: ClusterClient, body: V1ConfigMap): Promise<V1ConfigMap> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await cluster.core.patchNamespacedConfigMap({ name, namespace, body, fieldManager: FIELD_MANAGER, force: true }, applyOptions);
  } catch (err) {
    throw fromKubeError(err, `configmap ${name} in namespace ${namespace}`);
  }
}

/** Reads a Deployment, or undefined when it does not exist. */
export async function readDeploymentIfExists(cluster: ClusterClient, namespace: string, name: string): Promise<V1Deployment | undefined> {
  try {
    return await cluster.apps.readNamespacedDeployment({ name, namespace });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw fromKubeError(err, `deployment ${name} in namespace ${namespace}`);
  }
}
