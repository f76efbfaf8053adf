/**
 * The live workloads of configured apps in one namespace, of every kind: one
 * list call per kind the apps use, matched to the apps by kind and name.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { AppWorkload } from '../../config/apps.js';
import type { ClusterClient } from '../clusters.js';
import { findContainer } from './set-image.js';
import { workloadOps } from './kinds.js';
import type { AnyWorkload, WorkloadKind } from './types.js';

export interface ListedWorkload {
  target: AppWorkload;
  live: AnyWorkload;
  /** The image of the app's container (the adopted container, or the rendered one). */
  image: string;
}

export async function listAppWorkloads(
  cluster: ClusterClient,
  namespace: string,
  targets: readonly AppWorkload[],
): Promise<ListedWorkload[]> {
  const kinds = [...new Set(targets.map((t) => t.kind))];
  const lists = await Promise.all(kinds.map(async (kind) => [kind, await workloadOps(kind).list(cluster, namespace)] as const));
  const byKind = new Map<WorkloadKind, AnyWorkload[]>(lists);
  return targets.flatMap((target) => {
    const live = byKind.get(target.kind)?.find((w) => w.metadata?.name === target.name);
    if (!live) return [];
    const image = findContainer(live, target.container)?.image ?? live.spec?.template.spec?.containers[0]?.image ?? '?';
    return [{ target, live, image }];
  });
}

/** Whether the workload's selector (its matchLabels) selects the pod. */
export function selectsPod(live: AnyWorkload, pod: V1Pod): boolean {
  const want = Object.entries(live.spec?.selector.matchLabels ?? {});
  const labels = pod.metadata?.labels ?? {};
  return want.length > 0 && want.every(([k, v]) => labels[k] === v);
}
