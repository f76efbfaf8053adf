import {
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
  type V1Ingress,
  type V1Service,
} from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { FIELD_MANAGER } from './render.js';
import { fromKubeError } from './errors.js';
import { write, type WriteOptions } from './dry-run.js';

const applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/**
 * Server-side apply under our own field manager; creates the object if absent.
 * `force` (take fields other managers hold) only on objects the bot owns: the
 * caller checks ownership first (workloads/ownership.ts), and never forces onto
 * an object it does not own.
 */
export async function applyDeployment(
  cluster: ClusterClient,
  body: V1Deployment,
  force = true,
  opts?: WriteOptions,
): Promise<V1Deployment> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await write(
      opts,
      { kind: 'Deployment', name, namespace },
      () => readIfExists(`deployment ${name} in namespace ${namespace}`, () => cluster.apps.readNamespacedDeployment({ name, namespace })),
      (dry) => cluster.apps.patchNamespacedDeployment({ name, namespace, body, fieldManager: FIELD_MANAGER, force, ...dry }, applyOptions),
    );
  } catch (err) {
    throw fromKubeError(err, `deployment ${name} in namespace ${namespace}`);
  }
}

export async function applyService(cluster: ClusterClient, body: V1Service, force = true, opts?: WriteOptions): Promise<V1Service> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await write(
      opts,
      { kind: 'Service', name, namespace },
      () => readIfExists(`service ${name} in namespace ${namespace}`, () => cluster.core.readNamespacedService({ name, namespace })),
      (dry) => cluster.core.patchNamespacedService({ name, namespace, body, fieldManager: FIELD_MANAGER, force, ...dry }, applyOptions),
    );
  } catch (err) {
    throw fromKubeError(err, `service ${name} in namespace ${namespace}`);
  }
}

export async function applyConfigMap(cluster: ClusterClient, body: V1ConfigMap, force = true, opts?: WriteOptions): Promise<V1ConfigMap> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await write(
      opts,
      { kind: 'ConfigMap', name, namespace },
      () => readIfExists(`configmap ${name} in namespace ${namespace}`, () => cluster.core.readNamespacedConfigMap({ name, namespace })),
      (dry) => cluster.core.patchNamespacedConfigMap({ name, namespace, body, fieldManager: FIELD_MANAGER, force, ...dry }, applyOptions),
    );
  } catch (err) {
    throw fromKubeError(err, `configmap ${name} in namespace ${namespace}`);
  }
}

export async function applyIngress(cluster: ClusterClient, body: V1Ingress, force = true, opts?: WriteOptions): Promise<V1Ingress> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  try {
    return await write(
      opts,
      { kind: 'Ingress', name, namespace },
      () => readIfExists(`ingress ${name} in namespace ${namespace}`, () => cluster.networking.readNamespacedIngress({ name, namespace })),
      (dry) =>
        cluster.networking.patchNamespacedIngress({ name, namespace, body, fieldManager: FIELD_MANAGER, force, ...dry }, applyOptions),
    );
  } catch (err) {
    throw fromKubeError(err, `ingress ${name} in namespace ${namespace}`);
  }
}

/** Reads an object of a rendered app, or undefined when it does not exist (to check who owns it before applying). */
export async function readIfExists<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw fromKubeError(err, what);
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
