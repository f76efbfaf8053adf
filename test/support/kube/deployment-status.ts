/** The Deployment controller's status: replica counts and the Available and Progressing conditions, with the progress deadline. */
import type { Clock } from './clock.js';
import { maxUnavailable } from './deployment-rules.js';
import { mustResource } from './resources.js';
import { nowTime, stableStringify, type Store } from './store.js';

export const DEPLOYMENT = mustResource('apps/v1', 'Deployment');

export class DeploymentStatusWriter {
  /** `ns/name` → when the rollout last progressed (ms), while one is in flight. */
  private readonly lastProgress = new Map<string, number>();
  private readonly deadlineTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Sync the Deployment again (its progress deadline is due). */
    private readonly resync: (ns: string, name: string) => void,
  ) {}

  /** The Deployment is gone: drop its deadline. */
  forget(ns: string, name: string): void {
    const key = `${ns}/${name}`;
    this.clock.cancel(this.deadlineTimers.get(key));
    this.deadlineTimers.delete(key);
    this.lastProgress.delete(key);
  }

  write(ns: string, name: string, all: any[], newRs: any | undefined, createdRs?: string, foundRs?: string): void {
    const d = this.store.get(DEPLOYMENT, ns, name);
    if (!d) return;
    const key = `${ns}/${name}`;
    const desired: number = d.spec?.replicas ?? 1;
    const sum = (f: (rs: any) => number): number => all.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRs?.status?.replicas ?? 0;
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const unavailable = Math.max(desired - available, 0);
    const observedGeneration: number = d.metadata.generation ?? 1;
    const old = d.status ?? {};
    const now = nowTime();
    const conds: any[] = structuredClone(old.conditions ?? []);
    const setCond = (type: string, status: string, reason: string, message: string, keepTransitionIfSame = true): void => {
      const i = conds.findIndex((c) => c.type === type);
      const prev = i >= 0 ? conds[i] : undefined;
      if (prev && prev.status === status && prev.reason === reason && prev.message === message && type === 'Available') return;
      const c = {
        type,
        status,
        lastUpdateTime: now,
        lastTransitionTime: prev && prev.status === status && keepTransitionIfSame ? prev.lastTransitionTime : now,
        reason,
        message,
      };
      if (i >= 0) conds[i] = c;
      else conds.push(c);
    };
    const getCond = (type: string): any => conds.find((c) => c.type === type);

    // Available
    const minAvailable = desired - maxUnavailable(d);
    if (available >= minAvailable) setCond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.');
    else setCond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.');

    // Progressing
    const rsName = newRs?.metadata?.name ?? '';
    const deadline: number | undefined = d.spec?.progressDeadlineSeconds;
    const complete =
      updated === desired && replicas === desired && available === desired && observedGeneration >= (d.metadata.generation ?? 1);
    const progressed =
      updated > (old.updatedReplicas ?? 0) ||
      replicas - updated < (old.replicas ?? 0) - (old.updatedReplicas ?? 0) ||
      ready > (old.readyReplicas ?? 0) ||
      available > (old.availableReplicas ?? 0);
    const cur = getCond('Progressing');
    if (d.spec?.paused) {
      if (cur?.reason !== 'DeploymentPaused') setCond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
    } else if (cur?.reason === 'DeploymentPaused') {
      setCond('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed');
      this.lastProgress.set(key, Date.now());
    } else if (createdRs) {
      setCond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${createdRs}"`);
      this.lastProgress.set(key, Date.now());
    } else if (foundRs && !cur) {
      setCond('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${foundRs}"`);
      this.lastProgress.set(key, Date.now());
    } else if (complete) {
      if (cur?.reason !== 'NewReplicaSetAvailable')
        setCond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
      this.lastProgress.delete(key);
    } else if (progressed) {
      setCond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
      this.lastProgress.set(key, Date.now());
    } else if (deadline !== undefined && cur && cur.reason !== 'NewReplicaSetAvailable' && cur.reason !== 'ProgressDeadlineExceeded') {
      const since = this.lastProgress.get(key) ?? Date.parse(cur.lastUpdateTime);
      const due = since + deadline * 1000;
      if (Date.now() >= due) {
        setCond('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`);
        this.lastProgress.delete(key);
      }
    }
    // schedule a re-check at the deadline while a rollout is in flight
    const after = getCond('Progressing');
    this.clock.cancel(this.deadlineTimers.get(key));
    this.deadlineTimers.delete(key);
    if (deadline !== undefined && after && after.status === 'True' && after.reason !== 'NewReplicaSetAvailable' && !d.spec?.paused) {
      const since = this.lastProgress.get(key) ?? Date.now();
      const wait = since + deadline * 1000 - Date.now() + 5;
      this.deadlineTimers.set(
        key,
        this.clock.after(wait, () => this.resync(ns, name)),
      );
    }

    // getReplicaFailures: the new ReplicaSet's ReplicaFailure, else an old one's, copied; none: removed
    // (SetDeploymentCondition: one of the same status and reason is kept as it is, message and times included)
    const failure = replicaFailure(newRs, all);
    const at = conds.findIndex((c) => c.type === 'ReplicaFailure');
    const kept = at >= 0 && failure && conds[at].status === failure.status && conds[at].reason === failure.reason;
    if (!kept) {
      if (at >= 0) conds.splice(at, 1);
      if (failure) conds.push(failure);
    }

    conds.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
    const status: any = {
      observedGeneration,
      ...(replicas ? { replicas } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready } : {}),
      ...(available ? { availableReplicas: available } : {}),
      ...(unavailable ? { unavailableReplicas: unavailable } : {}),
      conditions: conds,
      ...(old.collisionCount !== undefined ? { collisionCount: old.collisionCount } : {}),
    };
    const strip = (s: any): string =>
      stableStringify({
        ...s,
        conditions: (s?.conditions ?? []).map((c: any) => ({ ...c, lastUpdateTime: undefined, lastTransitionTime: undefined })),
      });
    if (strip(old) !== strip(status)) {
      this.store.update(DEPLOYMENT, { ...d, metadata: { ...d.metadata }, status });
    }
  }
}

/** ReplicaSetToDeploymentCondition of the first ReplicaFailure: the new ReplicaSet's first, then the others'. */
function replicaFailure(newRs: any | undefined, all: any[]): any | undefined {
  for (const rs of [newRs, ...all]) {
    const c = (rs?.status?.conditions ?? []).find((x: any) => x.type === 'ReplicaFailure');
    if (c)
      return {
        type: c.type,
        status: c.status,
        lastUpdateTime: c.lastTransitionTime,
        lastTransitionTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      };
  }
  return undefined;
}
