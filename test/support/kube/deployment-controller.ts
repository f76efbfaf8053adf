/** The Deployment controller: a ReplicaSet per pod template, rolled by the strategy (rolling update or recreate), old revisions pruned. */
import type { Clock } from './clock.js';
import { applyDefaults } from './defaults.js';
import {
  copiedAnnotations,
  HASH_LABEL,
  maxSurge,
  maxUnavailable,
  podTemplateHash,
  REVISION,
  REVISION_HISTORY,
  revisionHistory,
  revisionOf,
  templateWithoutHash,
} from './deployment-rules.js';
import { DEPLOYMENT, DeploymentStatusWriter } from './deployment-status.js';
import type { EventRecorder } from './events.js';
import { controlled } from './owners.js';
import { REPLICASET } from './replicaset-controller.js';
import { stableStringify, type Store } from './store.js';

export class DeploymentController {
  private readonly status: DeploymentStatusWriter;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    clock: Clock,
    resync: (ns: string, name: string) => void,
  ) {
    this.status = new DeploymentStatusWriter(store, clock, resync);
  }

  /** The Deployment is gone. */
  forget(ns: string, name: string): void {
    this.status.forget(ns, name);
  }

  private scaleRs(d: any, rs: any, replicas: number): any {
    const cur = this.store.get(REPLICASET, rs.metadata.namespace, rs.metadata.name) ?? rs;
    const from: number = cur.spec?.replicas ?? 0;
    if (from === replicas) return cur;
    const updated = this.store.update(REPLICASET, {
      ...cur,
      metadata: {
        ...cur.metadata,
        annotations: {
          ...(cur.metadata.annotations ?? {}),
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1),
          'deployment.kubernetes.io/max-replicas': String((d.spec.replicas ?? 1) + maxSurge(d)),
        },
      },
      spec: { ...cur.spec, replicas },
    });
    this.events.record(d, {
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: `Scaled ${replicas > from ? 'up' : 'down'} replica set ${cur.metadata.name} from ${from} to ${replicas}`,
      component: 'deployment-controller',
    });
    return updated;
  }

  sync(ns: string, name: string): void {
    let d = this.store.get(DEPLOYMENT, ns, name);
    if (!d) return;
    const desired: number = d.spec?.replicas ?? 1;
    const paused = !!d.spec?.paused;
    let all = controlled(this.store, REPLICASET, d);
    const wantTemplate = stableStringify(templateWithoutHash(d.spec?.template));
    let newRs = all.find((rs) => stableStringify(templateWithoutHash(rs.spec?.template)) === wantTemplate);
    let createdRs: string | undefined;
    let foundRs: string | undefined;

    if (!paused) {
      const maxOld = Math.max(0, ...all.filter((rs) => rs !== newRs).map(revisionOf));
      if (!newRs) {
        const rev = maxOld + 1;
        let collision: number = d.status?.collisionCount ?? 0;
        for (let attempt = 0; attempt < 10 && !newRs; attempt++) {
          const hash = podTemplateHash(d.spec.template, collision);
          const rsName = `${name}-${hash}`;
          const existing = this.store.get(REPLICASET, ns, rsName);
          if (existing) {
            collision++;
            continue;
          }
          const template = structuredClone(d.spec.template ?? {});
          template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
          const selector = structuredClone(d.spec.selector ?? {});
          selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
          const rs: any = {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            metadata: {
              name: rsName,
              namespace: ns,
              labels: { ...(d.spec.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
              annotations: {
                ...copiedAnnotations(d),
                'deployment.kubernetes.io/desired-replicas': String(desired),
                'deployment.kubernetes.io/max-replicas': String(desired + maxSurge(d)),
                [REVISION]: String(rev),
              },
              ownerReferences: [
                { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true },
              ],
            },
            spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
            status: { replicas: 0 },
          };
          applyDefaults(REPLICASET, rs);
          newRs = this.store.create(REPLICASET, rs);
          createdRs = rsName;
        }
        if (collision !== (d.status?.collisionCount ?? 0)) {
          d = this.store.get(DEPLOYMENT, ns, name)!;
          d = this.store.update(DEPLOYMENT, { ...d, metadata: { ...d.metadata }, status: { ...d.status, collisionCount: collision } });
        }
        all = controlled(this.store, REPLICASET, d);
      } else if (revisionOf(newRs) <= maxOld) {
        // rollback to an older template: the ReplicaSet becomes the newest revision, its old number kept in its history
        const annotations = newRs.metadata.annotations ?? {};
        const history = revisionHistory(annotations[REVISION_HISTORY], annotations[REVISION]);
        newRs = this.store.update(REPLICASET, {
          ...newRs,
          metadata: {
            ...newRs.metadata,
            annotations: {
              ...annotations,
              ...copiedAnnotations(d),
              [REVISION]: String(maxOld + 1),
              ...(history ? { [REVISION_HISTORY]: history } : {}),
            },
          },
        });
        foundRs = newRs.metadata.name;
        all = controlled(this.store, REPLICASET, d);
      }
      if (newRs) {
        const rev = newRs.metadata.annotations?.[REVISION];
        if (rev && d.metadata.annotations?.[REVISION] !== rev) {
          d = this.store.update(DEPLOYMENT, {
            ...d,
            metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: rev } },
          });
        }
      }
      if (newRs)
        this.rollout(
          d,
          newRs,
          all.filter((rs) => rs.metadata.uid !== newRs.metadata.uid),
        );
      all = controlled(this.store, REPLICASET, d);
      newRs = newRs ? all.find((rs) => rs.metadata.uid === newRs.metadata.uid) : undefined;
    }
    this.status.write(ns, name, all, newRs, createdRs, foundRs);
  }

  private rollout(d: any, newRs: any, olds: any[]): void {
    const desired: number = d.spec?.replicas ?? 1;
    const oldsSorted = [...olds].sort((a, b) => revisionOf(a) - revisionOf(b));
    const spec = (rs: any): number => rs.spec?.replicas ?? 0;
    const avail = (rs: any): number => rs.status?.availableReplicas ?? 0;

    if (d.spec?.strategy?.type === 'Recreate') {
      let oldRunning = 0;
      for (const rs of oldsSorted) {
        if (spec(rs) > 0) this.scaleRs(d, rs, 0);
        oldRunning += rs.status?.replicas ?? 0;
      }
      if (oldRunning === 0 && spec(newRs) !== desired) this.scaleRs(d, newRs, desired);
      return;
    }
    // scale up the new ReplicaSet within maxSurge
    if (spec(newRs) > desired) {
      this.scaleRs(d, newRs, desired);
      return;
    }
    if (spec(newRs) < desired) {
      const total = spec(newRs) + oldsSorted.reduce((n, rs) => n + spec(rs), 0);
      const room = desired + maxSurge(d) - total;
      const up = Math.min(room, desired - spec(newRs));
      if (up > 0) {
        this.scaleRs(d, newRs, spec(newRs) + up);
        return;
      }
    }
    // scale down old ReplicaSets within maxUnavailable
    const oldTotal = oldsSorted.reduce((n, rs) => n + spec(rs), 0);
    if (oldTotal === 0) {
      this.cleanupHistory(d, oldsSorted);
      return;
    }
    const minAvailable = desired - maxUnavailable(d);
    const allTotal = oldTotal + spec(newRs);
    const newUnavailable = spec(newRs) - avail(newRs);
    let maxScaledDown = allTotal - minAvailable - newUnavailable;
    // first the unhealthy replicas of old sets
    for (const rs of oldsSorted) {
      if (maxScaledDown <= 0) break;
      const unhealthy = spec(rs) - avail(rs);
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown, unhealthy);
      this.scaleRs(d, rs, spec(rs) - down);
      rs.spec = { ...rs.spec, replicas: spec(rs) - down };
      maxScaledDown -= down;
    }
    // then available ones, keeping minAvailable
    const available = avail(newRs) + oldsSorted.reduce((n, rs) => n + Math.min(avail(rs), spec(rs)), 0);
    let canDown = available - minAvailable;
    for (const rs of oldsSorted) {
      if (canDown <= 0) break;
      if (spec(rs) === 0) continue;
      const down = Math.min(spec(rs), canDown);
      this.scaleRs(d, rs, spec(rs) - down);
      canDown -= down;
    }
  }

  private cleanupHistory(d: any, oldsSorted: any[]): void {
    const limit: number = d.spec?.revisionHistoryLimit ?? 10;
    const idle = oldsSorted.filter((rs) => (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0);
    const extra = idle.length - limit;
    for (let i = 0; i < extra; i++) {
      const rs = idle[i]!;
      try {
        this.store.delete(REPLICASET, rs.metadata.namespace, rs.metadata.name);
      } catch {
        // gone
      }
    }
  }
}
