/** The ReplicaSet controller: creates and deletes pods to match replicas, and writes the ReplicaSet's status. */
import { applyDefaults, qosClass, randomSuffix } from './defaults.js';
import type { EventRecorder } from './events.js';
import { controlled, podActive, podReady } from './owners.js';
import { podCreateRefusal, type CreateRetry } from './pod-create.js';
import { mustResource } from './resources.js';
import { labelSelectorObjectToRequirements, matchRequirements } from './selectors.js';
import { nowTime, stableStringify, type Store } from './store.js';

const POD = mustResource('v1', 'Pod');
export const REPLICASET = mustResource('apps/v1', 'ReplicaSet');

/** The ReplicaSet condition the controller sets while it cannot create (or delete) pods. */
const REPLICA_FAILURE = 'ReplicaFailure';

export class ReplicaSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly retry: CreateRetry,
  ) {}

  sync(ns: string, name: string): void {
    const rs = this.store.get(REPLICASET, ns, name);
    if (!rs) return;
    const pods = controlled(this.store, POD, rs).filter(podActive);
    const want: number = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    const item = `rs|${ns}|${name}`;
    // manageReplicas' error: the first refused create (slow start: the rest of the batch is not tried)
    let refused: string | undefined;
    if (diff < 0) {
      for (let i = 0; i < -diff && !refused; i++) refused = this.createPod(rs);
    } else if (diff > 0) {
      const rank = (p: any): number => (!p.spec?.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !podReady(p) ? 2 : 3);
      const victims = [...pods]
        .sort((a, b) => rank(a) - rank(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .slice(0, diff);
      for (const p of victims) {
        this.store.delete(POD, ns, p.metadata.name);
        this.events.record(rs, {
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: `Deleted pod: ${p.metadata.name}`,
          component: 'replicaset-controller',
        });
      }
    }
    if (refused) this.retry.failed(item);
    else this.retry.succeeded(item);
    const current = controlled(this.store, POD, rs).filter(podActive);
    const ready = current.filter(podReady).length;
    const labelsReq = labelSelectorObjectToRequirements({ matchLabels: rs.spec?.template?.metadata?.labels ?? {} });
    const status: any = {
      replicas: current.length,
      ...(current.length ? { fullyLabeledReplicas: current.filter((p) => matchRequirements(labelsReq, p.metadata.labels)).length } : {}),
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
      observedGeneration: rs.metadata.generation ?? 1,
    };
    const conditions = failureConditions(rs.status?.conditions, refused, diff);
    if (conditions.length) status.conditions = conditions;
    const fresh = this.store.get(REPLICASET, ns, name);
    if (fresh && stableStringify(fresh.status) !== stableStringify(status)) {
      this.store.update(REPLICASET, { ...fresh, metadata: { ...fresh.metadata }, status });
    }
  }

  /** One pod from the template; the refusal's message when the apiserver refuses it (recorded as FailedCreate). */
  private createPod(rs: any): string | undefined {
    const t = rs.spec?.template ?? {};
    const spec = structuredClone(t.spec ?? {});
    for (let attempt = 0; attempt < 5; attempt++) {
      const pod: any = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${rs.metadata.name}-${randomSuffix()}`,
          generateName: `${rs.metadata.name}-`,
          namespace: rs.metadata.namespace,
          labels: { ...(t.metadata?.labels ?? {}) },
          ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs.metadata.name,
              uid: rs.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: attempt === 0 ? spec : structuredClone(spec),
        status: { phase: 'Pending', qosClass: qosClass(spec) },
      };
      applyDefaults(POD, pod);
      const refusal = podCreateRefusal(this.store, pod, { generateName: pod.metadata.generateName });
      if (refusal) {
        this.events.record(rs, {
          type: 'Warning',
          reason: 'FailedCreate',
          message: `Error creating: ${refusal}`,
          component: 'replicaset-controller',
        });
        return refusal;
      }
      try {
        this.store.create(POD, pod);
        this.events.record(rs, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `Created pod: ${pod.metadata.name}`,
          component: 'replicaset-controller',
        });
        return undefined;
      } catch {
        // name collision: try another suffix
      }
    }
    return undefined;
  }
}

/**
 * calculateStatus: a refused create sets ReplicaFailure (True, FailedCreate, the error) when there is none yet; a
 * sync without error removes it. `diff` is pods minus replicas (a refused delete would be FailedDelete).
 */
function failureConditions(current: any[] | undefined, refused: string | undefined, diff: number): any[] {
  const others = (current ?? []).filter((c) => c.type !== REPLICA_FAILURE);
  const existing = (current ?? []).find((c) => c.type === REPLICA_FAILURE);
  if (!refused) return others;
  if (existing) return current ?? [];
  const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
  return [...others, { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: nowTime(), reason, message: refused }];
}
