/**
 * A canary on plain Deployments: the new version as a second Deployment
 * `<stable>-canary` whose pods carry `track: canary` beside the stable
 * Deployment's, both selected by the same Service (whose selector never names
 * `track`). The stable Deployment is never written. Pure rules here, plus the
 * few cluster calls a canary adds (create, scale, delete).
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { fromKubeError, kubeStatusCode } from './errors.js';
import { remove, type WriteOptions } from './dry-run.js';
import { podProblems } from './pod-problems.js';
import { LABEL_MANAGED_BY, FIELD_MANAGER, ANNOTATION_RESTARTED_AT } from './render.js';
import { timeMs } from './time.js';
import { carriedOverride } from './workloads/resource-override.js';
import { deploymentOps } from './workloads/kinds.js';
import { podSelector } from './workloads/types.js';

export const LABEL_TRACK = 'track';
export const TRACK_CANARY = 'canary';
export const ANNOTATION_CANARY_OF = 'k8s-chatops.io/canary-of';
export const ANNOTATION_CANARY_ID = 'k8s-chatops.io/canary-id';

export const canaryName = (stable: string) => `${stable}-canary`;

/** Pods of the stable Deployment, without the canary's (which also match its selector). */
export const stablePodSelector = (stable: V1Deployment) => `${podSelector(stable)},${LABEL_TRACK}!=${TRACK_CANARY}`;
export const canaryPodSelector = (stable: V1Deployment) => `${podSelector(stable)},${LABEL_TRACK}=${TRACK_CANARY}`;

/**
 * Canary replicas beside `stable` stable pods so that the canary's share of
 * all pods is as close as possible to `percent` (at least one pod; ties go to
 * fewer canary pods).
 */
export function canaryReplicas(stable: number, percent: number): number {
  const want = percent / 100;
  let best = 1;
  let bestError = Infinity;
  const limit = Math.max(1, stable * 99);
  for (let c = 1; c <= limit; c++) {
    const error = Math.abs(c / (stable + c) - want);
    if (error < bestError - 1e-12) {
      best = c;
      bestError = error;
    }
    if (c / (stable + c) > want) break;
  }
  return best;
}

/** "1 of 3 pods, 33 %" */
export function shareText(canary: number, stable: number): string {
  const total = canary + stable;
  const pct = total ? Math.round((100 * canary) / total) : 0;
  return `${canary} of ${total} pod${total === 1 ? '' : 's'}, ${pct} %`;
}

export interface CanaryInput {
  container: string;
  image: string;
  replicas: number;
  /** Ours on the canary Deployment: who, from where, which request. */
  annotations: Record<string, string>;
  canaryId: string;
}

/**
 * The canary Deployment: the stable pod template (adopted or rendered alike) with the new image and `track: canary`;
 * it runs the requests and limits the stable runs, so it carries the stable's record of those set in chat too.
 */
export function canaryDeployment(stable: V1Deployment, input: CanaryInput): V1Deployment {
  const name = canaryName(stable.metadata?.name ?? '');
  const template = structuredClone(stable.spec?.template ?? {});
  // A restart stamp belongs to the stable pods' history, not the canary's.
  const templateAnnotations = Object.fromEntries(
    Object.entries(template.metadata?.annotations ?? {}).filter(([k]) => k !== ANNOTATION_RESTARTED_AT),
  );
  template.metadata = {
    labels: { ...(template.metadata?.labels ?? {}), [LABEL_TRACK]: TRACK_CANARY },
    ...(Object.keys(templateAnnotations).length ? { annotations: templateAnnotations } : {}),
  };
  const containers = (template.spec?.containers ?? []).map((c) => (c.name === input.container ? { ...c, image: input.image } : c));
  template.spec = { ...(template.spec ?? { containers: [] }), containers };
  const selector = structuredClone(stable.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [LABEL_TRACK]: TRACK_CANARY };
  const labels = { ...(stable.metadata?.labels ?? {}), [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_TRACK]: TRACK_CANARY };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: stable.metadata?.namespace ?? '',
      labels,
      annotations: {
        ...carriedOverride(stable),
        ...input.annotations,
        [ANNOTATION_CANARY_OF]: stable.metadata?.name ?? '',
        [ANNOTATION_CANARY_ID]: input.canaryId,
      },
    },
    spec: {
      replicas: input.replicas,
      selector,
      ...(stable.spec?.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: stable.spec.progressDeadlineSeconds } : {}),
      ...(stable.spec?.minReadySeconds !== undefined ? { minReadySeconds: stable.spec.minReadySeconds } : {}),
      revisionHistoryLimit: 2,
      template,
    },
  };
}

/** What a track's pods look like now, by the one pod classifier. */
export interface TrackStats {
  pods: number;
  ready: number;
  restarts: number;
  oomKills: number;
  crashLoops: number;
  /** Pods not ready (starting, failing readiness, unschedulable, crashing). */
  unready: number;
  /** The pod unready the longest, and since when (ms since the epoch). */
  longestUnready?: { pod: string; since: number };
  /** The first crash-looping or OOMKilled pod's problem, in words. */
  worst?: string;
}

const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export function trackStats(pods: readonly V1Pod[]): TrackStats {
  const stats: TrackStats = { pods: 0, ready: 0, restarts: 0, oomKills: 0, crashLoops: 0, unready: 0 };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? '?';
    stats.pods++;
    for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      // A container terminated now is restart N+1 once the kubelet restarts it.
      stats.restarts += s.restartCount + (s.state?.terminated ? 1 : 0);
    }
    for (const p of podProblems(pod)) {
      if (p.kind === 'OOMKilled') {
        stats.oomKills++;
        stats.worst ??= `pod ${name}: container ${p.container ?? '?'} was OOMKilled (exit ${p.exitCode ?? 137})`;
      }
      if (p.kind === 'CrashLoopBackOff') {
        stats.crashLoops++;
        stats.worst ??= `pod ${name}: container ${p.container ?? '?'} is crash-looping${p.exitCode !== undefined ? ` (last exit code ${p.exitCode})` : ''}`;
      }
    }
    if (isReady(pod)) {
      stats.ready++;
      continue;
    }
    stats.unready++;
    const cond = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const since = timeMs(cond?.lastTransitionTime ?? pod.metadata?.creationTimestamp);
    if (!Number.isNaN(since) && (!stats.longestUnready || since < stats.longestUnready.since)) stats.longestUnready = { pod: name, since };
  }
  return stats;
}

export interface CanaryThresholds {
  maxRestarts: number;
  maxUnready: number;
}

/** Why the canary must be aborted now, or undefined while it is healthy enough. */
export function canaryVerdict(canary: TrackStats, t: CanaryThresholds, now: number): string | undefined {
  if (canary.restarts > t.maxRestarts) {
    const what = canary.worst ?? 'containers restarted';
    return `${what}; the canary's pods restarted ${canary.restarts} time${canary.restarts === 1 ? '' : 's'}, more than \`canary.maxRestarts\` (${t.maxRestarts})`;
  }
  if (canary.longestUnready && now - canary.longestUnready.since > t.maxUnready) {
    const minutes = Math.round((now - canary.longestUnready.since) / 1_000);
    return `pod ${canary.longestUnready.pod} has not been ready for ${minutes} s, longer than \`canary.maxUnready\` (${Math.round(t.maxUnready / 1_000)} s)`;
  }
  return undefined;
}

const what = (namespace: string, name: string) => `deployment ${name} in namespace ${namespace}`;

/** Creates (or, on a retry, re-applies) the canary Deployment: server-side apply, forced only onto our own object. */
export async function applyCanary(cluster: ClusterClient, body: V1Deployment, opts?: WriteOptions): Promise<V1Deployment> {
  return (await deploymentOps.apply(cluster, body, true, opts)) as V1Deployment;
}

export async function scaleCanary(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  replicas: number,
  opts?: WriteOptions,
): Promise<void> {
  await deploymentOps.scale!(cluster, namespace, name, replicas, opts);
}

/**
 * Deletes a Deployment the bot made (a canary, an old colour); its ReplicaSets and pods go with it. False if it was already gone.
 * `opts.dryRun`: a recorded dry run of the delete (the live Deployment goes, nothing comes).
 */
export async function deleteOwnDeployment(cluster: ClusterClient, namespace: string, name: string, opts?: WriteOptions): Promise<boolean> {
  try {
    const live = opts?.dryRun ? await deploymentOps.readIfExists(cluster, namespace, name) : undefined;
    if (opts?.dryRun && !live) return false;
    await remove(opts, { kind: 'Deployment', name, namespace }, live, (dry) =>
      cluster.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background', ...dry }),
    );
    return true;
  } catch (err) {
    if (kubeStatusCode(err) === 404) return false;
    throw fromKubeError(err, what(namespace, name));
  }
}

/** The pods of both tracks, in one list call. */
export async function listTrackPods(cluster: ClusterClient, stable: V1Deployment): Promise<{ stable: V1Pod[]; canary: V1Pod[] }> {
  const namespace = stable.metadata?.namespace ?? '';
  try {
    const list = await cluster.core.listNamespacedPod({ namespace, labelSelector: podSelector(stable) });
    const canary = list.items.filter((p) => p.metadata?.labels?.[LABEL_TRACK] === TRACK_CANARY);
    return { stable: list.items.filter((p) => p.metadata?.labels?.[LABEL_TRACK] !== TRACK_CANARY), canary };
  } catch (err) {
    throw fromKubeError(err, `pods of ${what(namespace, stable.metadata?.name ?? '?')}`);
  }
}
