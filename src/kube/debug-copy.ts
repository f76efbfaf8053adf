/**
 * `debug`: a sleeping copy of one of an app's pods, as `kubectl debug --copy-to`
 * makes it — same image, env and volumes, but the app container sleeps, no
 * probes, no owner, and none of the pod's labels, so no Service or controller
 * selects it. `activeDeadlineSeconds` makes Kubernetes stop it at its TTL even
 * if the bot is down when the delayed delete is due.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { badInput, conflict, isChatOpsError } from '../errors/index.js';
import type { ClusterClient } from './clusters.js';
import { kubeCall } from './errors.js';
import { remove, write, type WriteOptions } from './dry-run.js';
import { FIELD_MANAGER, LABEL_MANAGED_BY } from './render.js';

/** Marks a debug copy and names the app it copies (never a selector label of the app). */
export const LABEL_DEBUG_OF = 'k8s-chatops.io/debug-of';
export const ANNOTATION_DEBUG_REQUESTED_BY = 'k8s-chatops.io/debug-requested-by';
export const ANNOTATION_DEBUG_CREATED_AT = 'k8s-chatops.io/debug-created-at';
export const ANNOTATION_DEBUG_EXPIRES_AT = 'k8s-chatops.io/debug-expires-at';
export const ANNOTATION_DEBUG_SOURCE = 'k8s-chatops.io/debug-source-pod';

export interface DebugCopyOptions {
  app: string;
  /** The container that sleeps instead of running; default the pod's first. */
  container?: string;
  ttlSeconds: number;
  requestedBy: string;
  now: number;
  /** Random suffix, so two copies of one pod never clash. */
  suffix: string;
}

/** Pod names are at most 253 characters, but a label value of the name is 63: keep it short. */
function copyName(source: string, suffix: string): string {
  return `${source.slice(0, 63 - suffix.length - 7)}-debug-${suffix}`.replace(/-+/g, '-');
}

/** The copy of `source` to create (pure). */
export function debugCopyOf(source: V1Pod, opts: DebugCopyOptions): V1Pod {
  const spec = source.spec;
  if (!spec) throw badInput('That pod has no spec to copy.');
  const target = opts.container ?? spec.containers[0]?.name;
  if (!spec.containers.some((c) => c.name === target)) {
    throw badInput(`Pod \`${source.metadata?.name ?? '?'}\` has no container \`${target ?? '?'}\`.`);
  }
  const sourceName = source.metadata?.name ?? opts.app;
  const containers = spec.containers.map((c) => {
    const { livenessProbe: _l, readinessProbe: _r, startupProbe: _s, ...rest } = c;
    return c.name === target ? { ...rest, command: ['sleep', String(opts.ttlSeconds)], args: [] } : rest;
  });
  const {
    nodeName: _node,
    // The copy is scheduled anew, like kubectl debug's copy; it keeps placement rules.
    ...podSpec
  } = spec;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: copyName(sourceName, opts.suffix),
      namespace: source.metadata?.namespace ?? '',
      labels: { [LABEL_DEBUG_OF]: opts.app, [LABEL_MANAGED_BY]: FIELD_MANAGER },
      annotations: {
        [ANNOTATION_DEBUG_REQUESTED_BY]: opts.requestedBy,
        [ANNOTATION_DEBUG_CREATED_AT]: new Date(opts.now).toISOString(),
        [ANNOTATION_DEBUG_EXPIRES_AT]: new Date(opts.now + opts.ttlSeconds * 1_000).toISOString(),
        [ANNOTATION_DEBUG_SOURCE]: sourceName,
      },
    },
    spec: {
      ...podSpec,
      containers,
      restartPolicy: 'Never',
      activeDeadlineSeconds: opts.ttlSeconds,
    },
  };
}

/** The app's debug copies in the namespace. */
export async function listDebugCopies(cluster: ClusterClient, namespace: string, app: string): Promise<V1Pod[]> {
  const list = await kubeCall(
    cluster.core.listNamespacedPod({ namespace, labelSelector: `${LABEL_DEBUG_OF}=${app}` }),
    `debug copies of ${app} in namespace ${namespace}`,
  );
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export async function createDebugCopy(cluster: ClusterClient, pod: V1Pod, opts?: WriteOptions): Promise<V1Pod> {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '?';
  return kubeCall(
    write(
      opts,
      { kind: 'Pod', name, namespace },
      async () => undefined,
      (dry) => cluster.core.createNamespacedPod({ namespace, body: pod, fieldManager: FIELD_MANAGER, ...dry }),
    ),
    `debug copy ${name} in namespace ${namespace}`,
  );
}

/**
 * Deletes a debug copy of `app` — and only that: a pod without our debug label
 * for this app is refused, so the verb can never delete an ordinary pod.
 * Returns false when it is already gone.
 */
export async function deleteDebugCopy(
  cluster: ClusterClient,
  namespace: string,
  app: string,
  name: string,
  opts?: WriteOptions,
): Promise<boolean> {
  let pod: V1Pod;
  try {
    pod = await kubeCall(cluster.core.readNamespacedPod({ name, namespace }), `pod ${name} in namespace ${namespace}`);
  } catch (err) {
    if (isChatOpsError(err) && err.kind === 'not_found') return false;
    throw err;
  }
  if (pod.metadata?.labels?.[LABEL_DEBUG_OF] !== app) {
    throw conflict(`Pod \`${name}\` is not a debug copy of ${app}, so \`debug --delete\` leaves it alone.`);
  }
  try {
    await kubeCall(
      remove(opts, { kind: 'Pod', name, namespace }, pod, (dry) =>
        cluster.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, ...dry }),
      ),
      `debug copy ${name} in namespace ${namespace}`,
    );
    return true;
  } catch (err) {
    if (isChatOpsError(err) && err.kind === 'not_found') return false;
    throw err;
  }
}
