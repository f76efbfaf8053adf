import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1ReplicaSet } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { fromKubeError } from './errors.js';
import { ANNOTATION_REVISION, ownedReplicaSets } from './replicasets.js';
import { conflict } from '../errors/index.js';
import { write, type WriteOptions } from './dry-run.js';

/** Field managers of the chat verbs' updates, so `managedFields` tells who changed what. */
export const FIELD_MANAGER_SCALE = 'k8s-chatops-scale';
export const FIELD_MANAGER_RESTART = 'k8s-chatops-restart';
export const FIELD_MANAGER_ROLLBACK = 'k8s-chatops-rollback';

/** The Deployment's default progress deadline when it sets none (as Kubernetes defaults it). */
const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

const what = (namespace: string, name: string) => `deployment ${name} in namespace ${namespace}`;

/**
 * Reads a Deployment a user named. A missing one is a not-found error that
 * says where to look; `envName` names the environment in that hint.
 */
export async function readDeployment(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  envName: string,
  hint?: string,
): Promise<V1Deployment> {
  try {
    return await cluster.apps.readNamespacedDeployment({ name, namespace });
  } catch (err) {
    throw fromKubeError(err, what(namespace, name), hint ?? `has it been deployed? \`/k8s status ${envName}\` lists what runs there`);
  }
}

/** Refuses a paused Deployment, as `kubectl rollout restart` and `rollout undo` do: nothing would roll. */
export function refusePaused(deployment: V1Deployment, action: string): void {
  if (!deployment.spec?.paused) return;
  const name = deployment.metadata?.name ?? '?';
  const namespace = deployment.metadata?.namespace ?? '?';
  throw conflict(
    `${what(namespace, name)} is paused, so ${action} would change nothing until it is resumed. Resume it with \`kubectl rollout resume deployment/${name} -n ${namespace}\`, then try again.`,
  );
}

/** How long to follow a rollout of this Deployment: its own progress deadline, plus a minute of slack. */
export function rolloutTimeoutMs(deployment: V1Deployment): number {
  return ((deployment.spec?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) + 60) * 1_000;
}

/** Patches a Deployment with the given patch type under one of the chat verbs' field managers (`opts.dryRun`: a recorded dry run). */
export async function patchDeployment(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  body: object,
  strategy: PatchStrategy,
  fieldManager: string,
  opts?: WriteOptions,
): Promise<V1Deployment> {
  try {
    return await write(
      opts,
      { kind: 'Deployment', name, namespace },
      () =>
        cluster.apps.readNamespacedDeployment({ name, namespace }).catch((err: unknown) => {
          if ((err as { code?: number }).code === 404) return undefined;
          throw err;
        }),
      (dry) =>
        cluster.apps.patchNamespacedDeployment({ name, namespace, body, fieldManager, ...dry }, setHeaderOptions('Content-Type', strategy)),
    );
  } catch (err) {
    throw fromKubeError(err, what(namespace, name));
  }
}

/** Sets the replica count through the `scale` subresource (what `kubectl scale` does); returns the new count. */
export async function scaleDeployment(cluster: ClusterClient, namespace: string, name: string, replicas: number): Promise<number> {
  try {
    const scale = await cluster.apps.patchNamespacedDeploymentScale(
      { name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER_SCALE },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    return scale.spec?.replicas ?? replicas;
  } catch (err) {
    throw fromKubeError(err, what(namespace, name));
  }
}

/**
 * The ReplicaSets a Deployment controls — its revisions — as `kubectl rollout
 * undo` finds them: those matching its selector whose controller is this
 * Deployment (by uid).
 */
export async function listReplicaSetsOf(cluster: ClusterClient, deployment: V1Deployment): Promise<V1ReplicaSet[]> {
  const name = deployment.metadata?.name ?? '';
  const namespace = deployment.metadata?.namespace ?? '';
  const matchLabels = deployment.spec?.selector.matchLabels ?? {};
  const labelSelector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  try {
    const list = await cluster.apps.listNamespacedReplicaSet({ namespace, ...(labelSelector ? { labelSelector } : {}) });
    return ownedReplicaSets(deployment, list.items);
  } catch (err) {
    throw fromKubeError(err, `the revisions (ReplicaSets) of deployment ${name} in namespace ${namespace}`);
  }
}

/**
 * The refusal the Deployment's new ReplicaSet (the one at its revision) reports itself, in the cluster's words:
 * `refuses` false when it has none (the controller copies an old ReplicaSet's failure too, until that one is scaled
 * down, and keeps the first message of a failure that goes on). When the new one cannot be found or read, the
 * Deployment's own condition is trusted (`refuses` true, no message).
 */
export async function newReplicaSetRefusal(
  cluster: ClusterClient,
  deployment: V1Deployment,
): Promise<{ refuses: boolean; message?: string }> {
  const revision = deployment.metadata?.annotations?.[ANNOTATION_REVISION];
  const replicaSets = await listReplicaSetsOf(cluster, deployment).catch(() => undefined);
  const current = replicaSets?.find((rs) => revision !== undefined && rs.metadata?.annotations?.[ANNOTATION_REVISION] === revision);
  if (!current) return { refuses: true };
  const failure = (current.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return failure ? { refuses: true, ...(failure.message ? { message: failure.message } : {}) } : { refuses: false };
}
