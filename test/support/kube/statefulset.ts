/**
 * StatefulSet controller: pods name-0..N-1 created in order (OrderedReady: each waits for the previous one to be
 * Running and Ready; Parallel: all at once), removed highest ordinal first, one PersistentVolumeClaim per
 * volumeClaimTemplate and ordinal, rolling updates from the highest ordinal down to the partition, OnDelete left
 * to the user, and the status `kubectl rollout status` reads (currentRevision/updateRevision, updatedReplicas).
 */
import { applyDefaults, qosClass } from './defaults.js';
import type { EventRecorder } from './events.js';
import { controlled, controllerRef, podActive, podReady } from './owners.js';
import { podCreateRefusal, type CreateRetry } from './pod-create.js';
import { mustResource } from './resources.js';
import { CONTROLLER_REVISION, revisionTemplate, syncRevisions, truncateHistory } from './revisions.js';
import { stableStringify, type Store } from './store.js';

export const STATEFULSET = mustResource('apps/v1', 'StatefulSet');
const POD = mustResource('v1', 'Pod');
const PVC = mustResource('v1', 'PersistentVolumeClaim');
const REV_LABEL = 'controller-revision-hash';

function ordinalOf(set: any, pod: any): number {
  const prefix = `${set.metadata.name}-`;
  const name: string = pod.metadata.name;
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : -1;
}

function runningAndReady(p: any): boolean {
  return p.status?.phase === 'Running' && podReady(p);
}

export class StatefulSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly retry: CreateRetry,
  ) {}

  sync(ns: string, name: string): void {
    const set = this.store.get(STATEFULSET, ns, name);
    if (!set) return;
    const revs = syncRevisions(this.store, set);
    const update = revs.update;
    const current = (set.status?.currentRevision && revs.all.find((r) => r.metadata.name === set.status.currentRevision)) || update;
    const replicas: number = set.spec?.replicas ?? 1;
    const parallel = set.spec?.podManagementPolicy === 'Parallel';
    const strategy = set.spec?.updateStrategy ?? {};
    const partition: number = strategy.type === 'OnDelete' ? 0 : (strategy.rollingUpdate?.partition ?? 0);

    const byOrdinal = new Map<number, any>();
    for (const p of controlled(this.store, POD, set)) {
      const ord = ordinalOf(set, p);
      if (ord >= 0) byOrdinal.set(ord, p);
    }
    // failed pods are replaced
    for (const [ord, p] of byOrdinal) {
      if (!podActive(p)) {
        this.deletePod(set, p);
        byOrdinal.delete(ord);
      }
    }
    const revisionFor = (ord: number): any => {
      if (strategy.type !== 'OnDelete' && ord < partition) return current;
      return update;
    };

    let blocked = false;
    for (let ord = 0; ord < replicas; ord++) {
      const pod = byOrdinal.get(ord);
      if (!pod) {
        this.createPod(set, ord, revisionFor(ord));
        if (!parallel) {
          blocked = true;
          break;
        }
        continue;
      }
      if (!parallel && !runningAndReady(pod)) {
        blocked = true;
        break;
      }
    }
    // condemned ordinals: highest first; OrderedReady removes one at a time once the rest are healthy
    const condemned = [...byOrdinal.keys()].filter((o) => o >= replicas).sort((a, b) => b - a);
    if (!blocked) {
      for (const ord of condemned) {
        this.deletePod(set, byOrdinal.get(ord));
        byOrdinal.delete(ord);
        if (!parallel) {
          blocked = true;
          break;
        }
      }
    }
    // rolling update: highest ordinal not at the update revision, down to the partition, one at a time
    if (!blocked && strategy.type !== 'OnDelete' && update) {
      for (let ord = replicas - 1; ord >= partition; ord--) {
        const pod = byOrdinal.get(ord);
        if (!pod) break;
        if (pod.metadata.labels?.[REV_LABEL] !== update.metadata.name) {
          this.deletePod(set, pod);
          byOrdinal.delete(ord);
          break;
        }
        if (!runningAndReady(pod)) break;
      }
    }

    const pods = controlled(this.store, POD, set).filter(podActive);
    const ready = pods.filter(podReady).length;
    const currentCount = pods.filter((p) => p.metadata.labels?.[REV_LABEL] === current?.metadata.name).length;
    const updatedCount = pods.filter((p) => p.metadata.labels?.[REV_LABEL] === update?.metadata.name).length;
    const status: any = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: pods.length,
      ...(ready ? { readyReplicas: ready } : {}),
      ...(currentCount ? { currentReplicas: currentCount } : {}),
      ...(updatedCount ? { updatedReplicas: updatedCount } : {}),
      ...(current ? { currentRevision: current.metadata.name } : {}),
      ...(update ? { updateRevision: update.metadata.name } : {}),
      collisionCount: revs.collisionCount,
      availableReplicas: ready,
    };
    // completeRollingUpdate
    if (strategy.type !== 'OnDelete' && updatedCount === pods.length && ready === pods.length && pods.length === replicas && update) {
      status.currentRevision = update.metadata.name;
      if (updatedCount) status.currentReplicas = updatedCount;
    }
    const live = new Set<string>([status.currentRevision, status.updateRevision].filter(Boolean));
    for (const p of pods) if (p.metadata.labels?.[REV_LABEL]) live.add(p.metadata.labels[REV_LABEL]);
    truncateHistory(this.store, set, revs, live);
    const fresh = this.store.get(STATEFULSET, ns, name);
    if (fresh && stableStringify(fresh.status) !== stableStringify(status)) {
      this.store.update(STATEFULSET, { ...fresh, metadata: { ...fresh.metadata }, status });
    }
  }

  private claimName(set: any, template: any, ord: number): string {
    return `${template.metadata?.name}-${set.metadata.name}-${ord}`;
  }

  private ensureClaims(set: any, ord: number): void {
    for (const t of set.spec?.volumeClaimTemplates ?? []) {
      const name = this.claimName(set, t, ord);
      if (this.store.get(PVC, set.metadata.namespace, name)) continue;
      const storage = t.spec?.resources?.requests?.storage;
      const claim: any = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, namespace: set.metadata.namespace, labels: { ...(set.spec?.selector?.matchLabels ?? {}) } },
        spec: structuredClone(t.spec ?? {}),
        // the emulator binds every claim at once (no provisioner to wait for)
        status: { phase: 'Bound', accessModes: t.spec?.accessModes ?? [], ...(storage ? { capacity: { storage } } : {}) },
      };
      applyDefaults(PVC, claim);
      claim.status.phase = 'Bound';
      this.store.create(PVC, claim);
      this.events.record(set, {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `create Claim ${name} Pod ${set.metadata.name}-${ord} in StatefulSet ${set.metadata.name} success`,
        component: 'statefulset-controller',
      });
    }
  }

  private createPod(set: any, ord: number, rev: any): void {
    const t = rev ? revisionTemplate(rev) : structuredClone(set.spec?.template ?? {});
    const podName = `${set.metadata.name}-${ord}`;
    this.ensureClaims(set, ord);
    const spec = structuredClone(t.spec ?? {});
    const claims = (set.spec?.volumeClaimTemplates ?? []).map((c: any) => ({
      name: c.metadata?.name,
      persistentVolumeClaim: { claimName: this.claimName(set, c, ord) },
    }));
    if (claims.length) {
      const names = new Set(claims.map((c: any) => c.name));
      spec.volumes = [...(spec.volumes ?? []).filter((v: any) => !names.has(v.name)), ...claims];
    }
    spec.hostname = podName;
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    const pod: any = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: set.metadata.namespace,
        labels: {
          ...(t.metadata?.labels ?? {}),
          'apps.kubernetes.io/pod-index': String(ord),
          ...(rev ? { [REV_LABEL]: rev.metadata.name } : {}),
          'statefulset.kubernetes.io/pod-name': podName,
        },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(set)],
      },
      spec,
      status: { phase: 'Pending', qosClass: qosClass(spec) },
    };
    applyDefaults(POD, pod);
    const item = `sts|${set.metadata.namespace}|${set.metadata.name}`;
    const refusal = podCreateRefusal(this.store, pod, { name: podName });
    if (refusal) {
      // recordPodEvent: FailedCreate on the StatefulSet, then the set is synced again after a back-off
      this.events.record(set, {
        type: 'Warning',
        reason: 'FailedCreate',
        message: `create Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${refusal}`,
        component: 'statefulset-controller',
      });
      this.retry.failed(item);
      return;
    }
    this.retry.succeeded(item);
    try {
      this.store.create(POD, pod);
      this.events.record(set, {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `create Pod ${podName} in StatefulSet ${set.metadata.name} successful`,
        component: 'statefulset-controller',
      });
    } catch {
      // a pod of that name still exists (another owner): the real controller reports and retries
    }
  }

  private deletePod(set: any, pod: any): void {
    try {
      this.store.delete(POD, pod.metadata.namespace, pod.metadata.name);
      this.events.record(set, {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        component: 'statefulset-controller',
      });
    } catch {
      // gone already
    }
  }
}

export { CONTROLLER_REVISION };
