/**
 * DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity, taints the pods tolerate
 * together with the tolerations the real controller adds), rolling updates within maxUnavailable, OnDelete left to
 * the user, and the status `kubectl rollout status` reads (desired/updated/available numbers, observedGeneration).
 */
import { applyDefaults, qosClass, randomSuffix } from './defaults.js';
import type { EventRecorder } from './events.js';
import { controlled, controllerRef, podActive, podReady, resolveIntOrPercent } from './owners.js';
import { podCreateRefusal, type CreateRetry } from './pod-create.js';
import { mustResource } from './resources.js';
import { HASH_LABEL, syncRevisions, truncateHistory } from './revisions.js';
import { stableStringify, type Store } from './store.js';

export const DAEMONSET = mustResource('apps/v1', 'DaemonSet');
const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');
const REV_LABEL = 'controller-revision-hash';

/** Tolerations the DaemonSet controller adds to every pod it creates. */
const DAEMON_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

function tolerated(tolerations: any[], taint: any): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function termMatches(term: any, node: any): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  const check = (e: any, value: string | undefined): boolean => {
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      case 'Gt':
        return value !== undefined && Number(value) > Number(e.values?.[0]);
      case 'Lt':
        return value !== undefined && Number(value) < Number(e.values?.[0]);
      default:
        return false;
    }
  };
  return (
    (term?.matchExpressions ?? []).every((e: any) =>
      check(e, Object.prototype.hasOwnProperty.call(labels, e.key) ? labels[e.key] : undefined),
    ) && (term?.matchFields ?? []).every((e: any) => check(e, e.key === 'metadata.name' ? node.metadata.name : undefined))
  );
}

/** Whether a daemon pod with this spec should run on the node (the controller's nodeShouldRunDaemonPod). */
export function shouldRunOn(podSpec: any, node: any): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries((podSpec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms: any[] | undefined = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length && !terms.some((t) => termMatches(t, node))) return false;
  const tolerations = [...(podSpec?.tolerations ?? []), ...DAEMON_TOLERATIONS];
  for (const taint of node.spec?.taints ?? []) {
    if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerated(tolerations, taint)) return false;
  }
  return true;
}

export class DaemonSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly retry: CreateRetry,
  ) {}

  /** names of DaemonSets (ns/name) to re-sync when nodes change */
  all(): Array<[string, string]> {
    return this.store.list(DAEMONSET).map((d) => [d.metadata.namespace, d.metadata.name]);
  }

  sync(ns: string, name: string): void {
    const ds = this.store.get(DAEMONSET, ns, name);
    if (!ds) return;
    const revs = syncRevisions(this.store, ds);
    const hash: string | undefined = revs.update?.metadata.labels?.[HASH_LABEL];
    const nodes = this.store.list(NODE);
    const byNode = new Map<string, any[]>();
    const pods = controlled(this.store, POD, ds);
    for (const p of pods) {
      if (!podActive(p)) {
        this.deletePod(ds, p);
        continue;
      }
      const node: string = p.spec?.nodeName ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    const eligible = nodes.filter((n) => shouldRunOn(ds.spec?.template?.spec, n));
    const eligibleNames = new Set(eligible.map((n) => n.metadata.name));
    for (const [node, list] of byNode) {
      if (!eligibleNames.has(node)) for (const p of list) this.deletePod(ds, p);
      else for (const p of list.slice(1)) this.deletePod(ds, p);
    }
    // slow start: a refused create ends the batch, and the DaemonSet is synced again after a back-off
    const missing = eligible.filter((n) => !byNode.has(n.metadata.name));
    const refused = missing.some((n) => !this.createPod(ds, n.metadata.name, hash));
    if (refused) this.retry.failed(`ds|${ns}|${name}`);
    else this.retry.succeeded(`ds|${ns}|${name}`);

    const desired = eligible.length;
    const strategy = ds.spec?.updateStrategy ?? {};
    if (strategy.type !== 'OnDelete' && hash) {
      const maxUnavailable = Math.max(resolveIntOrPercent(strategy.rollingUpdate?.maxUnavailable ?? 1, desired, true), 1);
      const onEligible = (): any[] => controlled(this.store, POD, ds).filter((p) => podActive(p) && eligibleNames.has(p.spec?.nodeName));
      const current = onEligible();
      let unavailable = desired - current.filter(podReady).length;
      for (const p of current) {
        if (p.metadata.labels?.[REV_LABEL] === hash) continue;
        if (!podReady(p)) this.deletePod(ds, p);
        else if (unavailable < maxUnavailable) {
          this.deletePod(ds, p);
          unavailable++;
        }
      }
    }

    const now = controlled(this.store, POD, ds).filter(podActive);
    const scheduled = now.filter((p) => eligibleNames.has(p.spec?.nodeName));
    const ready = scheduled.filter(podReady);
    const status: any = {
      currentNumberScheduled: scheduled.length,
      desiredNumberScheduled: desired,
      numberMisscheduled: now.length - scheduled.length,
      numberReady: ready.length,
      observedGeneration: ds.metadata.generation ?? 1,
      ...(scheduled.some((p) => p.metadata.labels?.[REV_LABEL] === hash)
        ? { updatedNumberScheduled: scheduled.filter((p) => p.metadata.labels?.[REV_LABEL] === hash).length }
        : {}),
      ...(ready.length ? { numberAvailable: ready.length } : {}),
      ...(desired - ready.length > 0 ? { numberUnavailable: desired - ready.length } : {}),
      ...(revs.collisionCount ? { collisionCount: revs.collisionCount } : {}),
    };
    const live = new Set<string>();
    for (const r of revs.all)
      if (now.some((p) => p.metadata.labels?.[REV_LABEL] === r.metadata.labels?.[HASH_LABEL])) live.add(r.metadata.name);
    truncateHistory(this.store, ds, revs, live);
    const fresh = this.store.get(DAEMONSET, ns, name);
    if (fresh && stableStringify(fresh.status) !== stableStringify(status)) {
      this.store.update(DAEMONSET, { ...fresh, metadata: { ...fresh.metadata }, status });
    }
  }

  /** false when the apiserver refuses the pod (recorded as FailedCreate "Error creating: …"). */
  private createPod(ds: any, node: string, hash: string | undefined): boolean {
    const t = ds.spec?.template ?? {};
    const spec = structuredClone(t.spec ?? {});
    // the real controller pins the pod with node affinity and lets the scheduler bind it; the emulator binds at once
    spec.affinity = {
      ...(spec.affinity ?? {}),
      nodeAffinity: {
        ...(spec.affinity?.nodeAffinity ?? {}),
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
        },
      },
    };
    const have = new Set((spec.tolerations ?? []).map((t: any) => `${t.key}|${t.effect}`));
    spec.tolerations = [...(spec.tolerations ?? []), ...DAEMON_TOLERATIONS.filter((t) => !have.has(`${t.key}|${t.effect}`))];
    spec.nodeName = node;
    const pod: any = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${ds.metadata.name}-${randomSuffix()}`,
        generateName: `${ds.metadata.name}-`,
        namespace: ds.metadata.namespace,
        labels: {
          ...(t.metadata?.labels ?? {}),
          ...(hash ? { [REV_LABEL]: hash } : {}),
          'pod-template-generation': String(ds.metadata.generation ?? 1),
        },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(ds)],
      },
      spec,
      status: { phase: 'Pending', qosClass: qosClass(spec) },
    };
    applyDefaults(POD, pod);
    const refusal = podCreateRefusal(this.store, pod, { generateName: pod.metadata.generateName });
    if (refusal) {
      this.events.record(ds, {
        type: 'Warning',
        reason: 'FailedCreate',
        message: `Error creating: ${refusal}`,
        component: 'daemonset-controller',
      });
      return false;
    }
    try {
      this.store.create(POD, pod);
      this.events.record(ds, {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `Created pod: ${pod.metadata.name}`,
        component: 'daemonset-controller',
      });
    } catch {
      // name collision: the next sync tries another suffix
    }
    return true;
  }

  private deletePod(ds: any, pod: any): void {
    try {
      this.store.delete(POD, pod.metadata.namespace, pod.metadata.name);
      this.events.record(ds, {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: `Deleted pod: ${pod.metadata.name}`,
        component: 'daemonset-controller',
      });
    } catch {
      // gone already
    }
  }
}
