import { PatchStrategy } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { FIELD_MANAGER_RESTART, patchDeployment } from './deployments.js';
import { ANNOTATION_RESTARTED_AT } from './render.js';

/** RFC 3339 to the second, as kubectl writes it: two restarts within one second are one. */
export function restartTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `kubectl rollout restart`'s patch: a new pod-template annotation, so the Deployment rolls its pods. */
export function restartPatch(restartedAt: string) {
  return { spec: { template: { metadata: { annotations: { [ANNOTATION_RESTARTED_AT]: restartedAt } } } } };
}

/** Strategic-merge-patches the restart annotation; the same timestamp again changes nothing. */
export async function restartDeployment(cluster: ClusterClient, namespace: string, name: string, restartedAt: string) {
  return patchDeployment(cluster, namespace, name, restartPatch(restartedAt), PatchStrategy.StrategicMergePatch, FIELD_MANAGER_RESTART);
}
