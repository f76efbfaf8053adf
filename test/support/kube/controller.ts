/** Deployment and ReplicaSet controllers, garbage collection, and the wiring of scheduler and kubelet. */
import { Clock } from './clock.js';
import { applyDefaults, qosClass, randomSuffix } from './defaults.js';
import { EventRecorder, type EventMode } from './events.js';
import { Kubelet, type PodBehavior } from './kubelet.js';
import { mustResource } from './resources.js';
import { Scheduler } from './scheduler.js';
import { labelSelectorObjectToRequirements, matchRequirements } from './selectors.js';
import { nowTime, stableStringify, type Store, type StoreEvent } from './store.js';
import { fnv32a, safeEncode } from './hash.js';
import { WorkloadControllers } from './workloads.js';

const POD = mustResource('v1', 'Pod');
const RS = mustResource('apps/v1', 'ReplicaSet');
const DEPLOY = mustResource('apps/v1', 'Deployment');

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
/** The controller's maxRevHistoryLengthInChars: the oldest numbers are dropped to stay within it. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations the controller does not copy onto its ReplicaSets (annotationsToSkip). */
const ANNOTATIONS_NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** copyDeploymentAnnotationsToReplicaSet: the Deployment's own annotations (change-cause and the like) on its new ReplicaSet. */
function copiedAnnotations(d: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries((d.metadata?.annotations ?? {}) as Record<string, string>).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
  );
}

/** SetNewReplicaSetAnnotations: a re-used ReplicaSet appends its former revision to its revision history. */
function revisionHistory(history: string | undefined, former: string | undefined): string | undefined {
  if (!former) return history;
  const old = history ? history.split(',') : [];
  let total = (history?.length ?? 0) + former.length + 1;
  let start = 0;
  while (old.length && total > MAX_REVISION_HISTORY_CHARS && start < old.length) total -= old[start++]!.length + 1;
  return total <= MAX_REVISION_HISTORY_CHARS ? [...old.slice(start), former].join(',') : history;
}
const HASH_LABEL = 'pod-template-hash';

export function templateWithoutHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
  }
  return t;
}

export function podTemplateHash(template: any, collisionCount = 0): string {
  const text = stableStringify(templateWithoutHash(template)) + (collisionCount ? String(collisionCount) : '');
  return safeEncode(String(fnv32a(text)));
}

function isControlledBy(obj: any, owner: any): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r: any) => r.controller && r.uid === owner.metadata.uid);
}

function controllerOf(obj: any): any | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
}

function revisionOf(rs: any): number {
  const n = Number(rs.metadata?.annotations?.[REVISION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const f = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(f) : Math.floor(f);
  }
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function podReady(p: any): boolean {
  return (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function podActive(p: any): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export interface ControllerOptions {
  tickMs: number;
  events: EventMode;
}

export class Controller {
  readonly clock = new Clock();
  readonly events: EventRecorder;
  readonly scheduler: Scheduler;
  readonly kubelet: Kubelet;
  private readonly queue = new Set<string>();
  private scheduled = false;
  private readonly imageBehaviors = new Map<string, PodBehavior>();
  private defaultBehavior: PodBehavior = { kind: 'ready' };
  private readonly lastProgress = new Map<string, number>();
  private readonly deadlineTimers = new Map<string, NodeJS.Timeout>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly workloads: WorkloadControllers;
  private unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly opts: ControllerOptions,
  ) {
    this.events = new EventRecorder(store, opts.events);
    this.scheduler = new Scheduler(store, this.events);
    this.scheduler.onCapacity = () => this.retryPendingSoon();
    this.kubelet = new Kubelet(store, this.events, this.clock, {
      tickMs: opts.tickMs,
      behaviorFor: (image) => this.behaviorFor(image),
    });
    this.workloads = new WorkloadControllers(store, this.events, (item) => this.enqueue(item));
    this.unsubscribe = store.onChange((ev) => this.observe(ev));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.clock.close();
    this.kubelet.close();
  }

  pause(): void {
    this.clock.pause();
  }

  resume(): void {
    this.clock.resume();
    this.kick();
  }

  get paused(): boolean {
    return this.clock.isPaused;
  }

  setImageBehavior(image: string, b: PodBehavior): void {
    this.imageBehaviors.set(image, b);
  }

  setDefaultBehavior(b: PodBehavior): void {
    this.defaultBehavior = b;
  }

  behaviorFor(image: string): PodBehavior {
    return this.imageBehaviors.get(image) ?? this.defaultBehavior;
  }

  // ------------------------------------------------------------------ queue

  private enqueue(item: string): void {
    this.queue.add(item);
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.closed || this.queue.size === 0) return;
    this.scheduled = true;
    this.clock.after(0, () => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    let budget = 50_000;
    while (this.queue.size > 0 && budget-- > 0 && !this.clock.isPaused) {
      const item = this.queue.values().next().value as string;
      this.queue.delete(item);
      const [kind, ns, name] = item.split('|') as [string, string, string];
      try {
        switch (kind) {
          case 'deploy':
            this.syncDeployment(ns, name);
            break;
          case 'rs':
            this.syncReplicaSet(ns, name);
            break;
          case 'schedule':
            this.scheduler.schedule(ns, name);
            break;
          case 'gc':
            this.collect(name);
            break;
          default:
            this.workloads.sync(kind, ns, name);
        }
      } catch (err) {
        console.error(`kube emulator: ${kind} ${ns}/${name} sync failed`, err);
      }
    }
    this.kick();
  }

  private observe(ev: StoreEvent): void {
    this.scheduler.observe(ev);
    this.kubelet.observe(ev);
    this.workloads.observe(ev);
    const o = ev.obj;
    const ns: string = o.metadata?.namespace ?? '';
    const name: string = o.metadata?.name;
    if (ev.res === DEPLOY) {
      if (ev.type === 'DELETED') {
        this.enqueue(`gc||${o.metadata.uid}`);
        this.clock.cancel(this.deadlineTimers.get(`${ns}/${name}`));
        this.lastProgress.delete(`${ns}/${name}`);
      } else this.enqueue(`deploy|${ns}|${name}`);
    } else if (ev.res === RS) {
      if (ev.type === 'DELETED') this.enqueue(`gc||${o.metadata.uid}`);
      else this.enqueue(`rs|${ns}|${name}`);
      const owner = controllerOf(o);
      if (owner?.kind === 'Deployment') this.enqueue(`deploy|${ns}|${owner.name}`);
    } else if (ev.res === POD) {
      const owner = controllerOf(o);
      if (owner?.kind === 'ReplicaSet') {
        // only changes the ReplicaSet cares about: existence, readiness, phase
        const relevant = ev.type !== 'MODIFIED' || podReady(ev.prev) !== podReady(o) || ev.prev?.status?.phase !== o.status?.phase;
        if (relevant) this.enqueue(`rs|${ns}|${owner.name}`);
      }
      if (ev.type === 'ADDED' && !o.spec?.nodeName && (o.status?.phase ?? 'Pending') === 'Pending') this.enqueue(`schedule|${ns}|${name}`);
    }
  }

  private retryPendingSoon(): void {
    if (this.retryTimer || this.scheduler.pending.size === 0) return;
    this.retryTimer = this.clock.after(this.opts.tickMs * 2, () => {
      this.retryTimer = undefined;
      for (const key of this.scheduler.pending.keys()) {
        const i = key.indexOf('/');
        this.queue.add(`schedule|${key.slice(0, i)}|${key.slice(i + 1)}`);
      }
      this.kick();
    });
  }

  private collect(ownerUid: string): void {
    for (const { res, obj } of this.store.dependents(ownerUid)) {
      try {
        this.store.delete(res, obj.metadata.namespace, obj.metadata.name);
      } catch {
        // already gone
      }
    }
  }

  // ------------------------------------------------------------------ ReplicaSet

  private ownedPods(rs: any): any[] {
    return this.store
      .dependents(rs.metadata.uid)
      .filter((d) => d.res === POD && isControlledBy(d.obj, rs))
      .map((d) => d.obj);
  }

  private syncReplicaSet(ns: string, name: string): void {
    const rs = this.store.get(RS, ns, name);
    if (!rs) return;
    const pods = this.ownedPods(rs).filter(podActive);
    const want: number = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) this.createPod(rs);
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
    const current = this.ownedPods(rs).filter(podActive);
    const ready = current.filter(podReady).length;
    const labelsReq = labelSelectorObjectToRequirements({ matchLabels: rs.spec?.template?.metadata?.labels ?? {} });
    const status: any = {
      replicas: current.length,
      ...(current.length ? { fullyLabeledReplicas: current.filter((p) => matchRequirements(labelsReq, p.metadata.labels)).length } : {}),
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
      observedGeneration: rs.metadata.generation ?? 1,
    };
    const fresh = this.store.get(RS, ns, name);
    if (fresh && stableStringify(fresh.status) !== stableStringify(status)) {
      this.store.update(RS, { ...fresh, metadata: { ...fresh.metadata }, status });
    }
  }

  private createPod(rs: any): void {
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
      try {
        this.store.create(POD, pod);
        this.events.record(rs, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `Created pod: ${pod.metadata.name}`,
          component: 'replicaset-controller',
        });
        return;
      } catch {
        // name collision: try another suffix
      }
    }
  }

  // ------------------------------------------------------------------ Deployment

  private ownedReplicaSets(d: any): any[] {
    return this.store
      .dependents(d.metadata.uid)
      .filter((x) => x.res === RS && isControlledBy(x.obj, d))
      .map((x) => x.obj);
  }

  private scaleRs(d: any, rs: any, replicas: number): any {
    const cur = this.store.get(RS, rs.metadata.namespace, rs.metadata.name) ?? rs;
    const from: number = cur.spec?.replicas ?? 0;
    if (from === replicas) return cur;
    const updated = this.store.update(RS, {
      ...cur,
      metadata: {
        ...cur.metadata,
        annotations: {
          ...(cur.metadata.annotations ?? {}),
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1),
          'deployment.kubernetes.io/max-replicas': String((d.spec.replicas ?? 1) + this.surge(d)),
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

  private surge(d: any): number {
    if (d.spec?.strategy?.type === 'Recreate') return 0;
    const desired: number = d.spec?.replicas ?? 1;
    const surge = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
    const unavail = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    return surge === 0 && unavail === 0 ? 1 : surge;
  }

  private maxUnavailable(d: any): number {
    if (d.spec?.strategy?.type === 'Recreate') return 0;
    const desired: number = d.spec?.replicas ?? 1;
    const surge = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', desired, true);
    const unavail = resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    if (surge === 0 && unavail === 0) return 1;
    return Math.min(unavail, desired);
  }

  private syncDeployment(ns: string, name: string): void {
    let d = this.store.get(DEPLOY, ns, name);
    if (!d) return;
    const key = `${ns}/${name}`;
    const desired: number = d.spec?.replicas ?? 1;
    const paused = !!d.spec?.paused;
    let all = this.ownedReplicaSets(d);
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
          const existing = this.store.get(RS, ns, rsName);
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
                'deployment.kubernetes.io/max-replicas': String(desired + this.surge(d)),
                [REVISION]: String(rev),
              },
              ownerReferences: [
                { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true },
              ],
            },
            spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
            status: { replicas: 0 },
          };
          applyDefaults(RS, rs);
          newRs = this.store.create(RS, rs);
          createdRs = rsName;
        }
        if (collision !== (d.status?.collisionCount ?? 0)) {
          d = this.store.get(DEPLOY, ns, name)!;
          d = this.store.update(DEPLOY, { ...d, metadata: { ...d.metadata }, status: { ...d.status, collisionCount: collision } });
        }
        all = this.ownedReplicaSets(d);
      } else if (revisionOf(newRs) <= maxOld) {
        // rollback to an older template: the ReplicaSet becomes the newest revision, its old number kept in its history
        const annotations = newRs.metadata.annotations ?? {};
        const history = revisionHistory(annotations[REVISION_HISTORY], annotations[REVISION]);
        newRs = this.store.update(RS, {
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
        all = this.ownedReplicaSets(d);
      }
      if (newRs) {
        const rev = newRs.metadata.annotations?.[REVISION];
        if (rev && d.metadata.annotations?.[REVISION] !== rev) {
          d = this.store.update(DEPLOY, {
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
      all = this.ownedReplicaSets(d);
      newRs = newRs ? all.find((rs) => rs.metadata.uid === newRs.metadata.uid) : undefined;
    }
    this.updateDeploymentStatus(ns, name, key, all, newRs, createdRs, foundRs);
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
      const room = desired + this.surge(d) - total;
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
    const minAvailable = desired - this.maxUnavailable(d);
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
        this.store.delete(RS, rs.metadata.namespace, rs.metadata.name);
      } catch {
        // gone
      }
    }
  }

  private updateDeploymentStatus(
    ns: string,
    name: string,
    key: string,
    all: any[],
    newRs: any | undefined,
    createdRs?: string,
    foundRs?: string,
  ): void {
    const d = this.store.get(DEPLOY, ns, name);
    if (!d) return;
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
    const minAvailable = desired - this.maxUnavailable(d);
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
        this.clock.after(wait, () => this.enqueue(`deploy|${ns}|${name}`)),
      );
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
      this.store.update(DEPLOY, { ...d, metadata: { ...d.metadata }, status });
    }
  }
}
