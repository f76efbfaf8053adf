/**
 * One cluster's watcher, run by the leader: pods and Warning events of the
 * namespaces alert rules cover → detect → diagnose → record the occurrence in
 * Redis (once) → ask delivery to bring Slack up to date. It also waits out
 * `pendingFor` for unschedulable pods and declares incidents recovered when
 * every pod of the workload has been healthy long enough.
 */
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { AlertKind, AlertRule, Config } from '../config/schema.js';
import type { ClusterClient } from '../kube/clusters.js';
import { listNodes, podsOnNodes } from '../kube/cluster-capacity.js';
import { readLogTail } from '../kube/diagnose.js';
import { ChatOpsError } from '../errors/index.js';
import type { Logger } from '../log.js';
import { alertsTotal } from '../server/metrics.js';
import { countsForRecovery, detect, podHealthy, slimPod, workloadOf, type Finding, type WorkloadRef } from './detect.js';
import { diagnoseCrash, diagnoseImagePull, diagnoseOom, diagnoseUnschedulable, type Diagnosis, type UnschedulableInput } from './diagnose.js';
import { incidentId, type IncidentKey, type IncidentStore } from './incidents.js';
import type { Occurrence } from './messages.js';
import { ResilientInformer } from './watch.js';

/** Where a finding of a kind goes in a namespace: one route per channel. */
interface Route {
  channel: string;
  env: string;
  pendingForMs: number;
}

/** The namespaces of one cluster that rules cover, and where each kind is routed. */
export interface WatchTarget {
  namespace: string;
  routes: Map<AlertKind, Route[]>;
}

/** Per cluster name: the namespaces to watch and the routes, from the alert rules. */
export function watchTargets(config: Config, clusterOf: (env: string) => string): Map<string, WatchTarget[]> {
  const byCluster = new Map<string, Map<string, WatchTarget>>();
  config.alerts.forEach((rule: AlertRule) => {
    for (const env of rule.environments) {
      const namespace = config.environments[env]?.namespace;
      if (!namespace) continue;
      const cluster = clusterOf(env);
      const targets = byCluster.get(cluster) ?? new Map<string, WatchTarget>();
      byCluster.set(cluster, targets);
      const target: WatchTarget = targets.get(namespace) ?? { namespace, routes: new Map() };
      targets.set(namespace, target);
      for (const kind of rule.on) {
        const routes = target.routes.get(kind) ?? [];
        if (!routes.some((r) => r.channel === rule.channel)) routes.push({ channel: rule.channel, env, pendingForMs: rule.pendingFor });
        target.routes.set(kind, routes);
      }
    }
  });
  return new Map([...byCluster].map(([cluster, targets]) => [cluster, [...targets.values()]]));
}

export interface MonitorOptions {
  cluster: ClusterClient;
  targets: readonly WatchTarget[];
  store: IncidentStore;
  enqueue(id: string, isNew: boolean): Promise<void>;
  log: Logger;
  now?: () => number;
  /** Terminations older than this when first seen are history, not alerts (default 1 h). */
  maxAgeMs?: number;
  /** Log lines kept with an OOMKilled or crash-loop alert (default 20). */
  logLines?: number;
  /** Watch restart backoff (see watch.ts). */
  backoffMs?(attempt: number): number;
  /** Page size of the initial lists (default 500). */
  pageSize?: number;
}

interface OpenIncident {
  id: string;
  gen: number;
  workload: string;
  recoverAfterMs: number;
}

const slimEvent = (e: CoreV1Event): CoreV1Event => ({
  metadata: { name: e.metadata?.name, namespace: e.metadata?.namespace, resourceVersion: e.metadata?.resourceVersion },
  involvedObject: { kind: e.involvedObject?.kind, name: e.involvedObject?.name, namespace: e.involvedObject?.namespace, fieldPath: e.involvedObject?.fieldPath },
  ...(e.reason ? { reason: e.reason } : {}),
  ...(e.message ? { message: e.message } : {}),
  ...(e.type ? { type: e.type } : {}),
});

const podKey = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`;
const workloadKey = (ns: string, w: WorkloadRef) => `${ns}/${w.kind}/${w.name}`;

export class ClusterMonitor {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly podInformers = new Map<string, ResilientInformer<V1Pod>>();
  private readonly eventInformers: ResilientInformer<CoreV1Event>[] = [];
  private readonly routesByNs = new Map<string, Map<AlertKind, Route[]>>();
  /** Per pod: processing runs one at a time, in event order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Occurrences handled, per pod uid → `${kind}/${container}` → occurrence. */
  private readonly seen = new Map<string, Map<string, number>>();
  /** When each pending pod became unschedulable, per uid. */
  private readonly unschedulableSince = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retries = new Map<string, number>();
  /** The scheduler's latest message per pod; the registry's latest error per pod/container. */
  private readonly schedulerMessages = new Map<string, string>();
  private readonly pullErrors = new Map<string, string>();
  private readonly podsByWorkload = new Map<string, Set<string>>();
  private readonly workloadOfPod = new Map<string, string>();
  private readonly open = new Map<string, OpenIncident>();
  private readonly healthySince = new Map<string, number>();
  private capacityRead: Promise<Pick<UnschedulableInput, 'nodes' | 'pods' | 'countedNamespaces'>> | undefined;
  private stopped = false;
  private onStop!: () => void;
  private readonly stopping = new Promise<void>((resolve) => (this.onStop = resolve));

  constructor(private readonly opts: MonitorOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    for (const t of opts.targets) this.routesByNs.set(t.namespace, t.routes);
  }

  /** Starts the watches; resolves when every initial list is cached and open incidents are re-armed. */
  async start(): Promise<void> {
    // A monitor is started once: after stop() (even one that raced with this start) it opens nothing.
    if (this.stopped || this.podInformers.size > 0) return;
    const { cluster } = this.opts;
    for (const { namespace } of this.opts.targets) {
      const common = { kubeConfig: cluster.kubeConfig, log: this.log, ...(this.opts.pageSize ? { pageSize: this.opts.pageSize } : {}), ...(this.opts.backoffMs ? { backoffMs: this.opts.backoffMs } : {}) };
      const pods = new ResilientInformer<V1Pod>({
        ...common,
        resource: 'pods',
        path: `/api/v1/namespaces/${namespace}/pods`,
        slim: slimPod,
        onAdd: (p) => this.onPod(p),
        onUpdate: (p) => this.onPod(p),
        onDelete: (p) => this.onPodDeleted(p),
      });
      // Warning events only: the scheduler's FailedScheduling and the registry's pull errors.
      const events = new ResilientInformer<CoreV1Event>({
        ...common,
        resource: 'events',
        path: `/api/v1/namespaces/${namespace}/events`,
        fieldSelector: 'type=Warning',
        slim: slimEvent,
        onAdd: (e) => this.onEvent(e),
        onUpdate: (e) => this.onEvent(e),
      });
      this.podInformers.set(namespace, pods);
      this.eventInformers.push(events);
    }
    const open = await this.opts.store.openIncidents().catch((err) => {
      this.log.warn({ err: String(err) }, 'could not read open incidents; recoveries of earlier incidents will be announced on their next occurrence');
      return [];
    });
    for (const s of open) {
      if (s.cluster !== cluster.name || !this.routesByNs.has(s.namespace)) continue;
      this.trackOpen({ id: s.id, gen: s.gen, workload: workloadKey(s.namespace, s.workload), recoverAfterMs: s.recoverAfterMs });
    }
    if (this.stopped) return; // stopped while reading the open incidents
    const informers = [...this.eventInformers, ...this.podInformers.values()];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.race([Promise.all(informers.map((i) => i.synced)), this.stopping]);
    if (this.stopped) return;
    for (const workload of new Set([...this.open.values()].map((o) => o.workload))) this.evaluateWorkload(workload);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.podInformers.values(), ...this.eventInformers].map((i) => i.stop()));
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Pods currently cached (for tests and the bench). */
  podCount(): number {
    let n = 0;
    for (const i of this.podInformers.values()) n += i.list().length;
    return n;
  }

  // ------------------------------------------------------------------ events

  private onEvent(e: CoreV1Event): void {
    const obj = e.involvedObject;
    if (obj?.kind !== 'Pod' || !e.message) return;
    const key = podKey(obj.namespace ?? e.metadata?.namespace, obj.name);
    if (e.reason === 'FailedScheduling') this.schedulerMessages.set(key, e.message);
    else if (e.reason === 'Failed' && e.message.startsWith('Failed to pull image')) {
      const container = /spec\.(?:initC|c)ontainers\{(.+)\}/.exec(obj.fieldPath ?? '')?.[1] ?? '';
      this.pullErrors.set(`${key}/${container}`, e.message);
    }
  }

  // ------------------------------------------------------------------ pods

  private onPod(pod: V1Pod): void {
    if (this.stopped) return;
    const key = podKey(pod.metadata?.namespace, pod.metadata?.name);
    const workload = this.index(key, pod);
    if (pod.spec?.nodeName) {
      this.unschedulableSince.delete(pod.metadata?.uid ?? '');
      this.clearTimer(`pending:${key}`);
    }
    if (this.chains.has(key) || detect(pod).length > 0) this.chain(key, () => this.process(pod));
    this.evaluateWorkload(workload);
  }

  private onPodDeleted(pod: V1Pod): void {
    const key = podKey(pod.metadata?.namespace, pod.metadata?.name);
    const workload = this.workloadOfPod.get(key);
    this.workloadOfPod.delete(key);
    if (workload) this.podsByWorkload.get(workload)?.delete(key);
    const uid = pod.metadata?.uid ?? '';
    this.seen.delete(uid);
    this.unschedulableSince.delete(uid);
    this.schedulerMessages.delete(key);
    for (const k of this.pullErrors.keys()) if (k.startsWith(`${key}/`)) this.pullErrors.delete(k);
    this.clearTimer(`pending:${key}`);
    if (workload) this.evaluateWorkload(workload);
  }

  /** Keeps workload → pods current; returns the pod's workload key. */
  private index(key: string, pod: V1Pod): string {
    const workload = workloadKey(pod.metadata?.namespace ?? '', workloadOf(pod));
    const before = this.workloadOfPod.get(key);
    if (before !== workload) {
      if (before) this.podsByWorkload.get(before)?.delete(key);
      this.workloadOfPod.set(key, workload);
      const set = this.podsByWorkload.get(workload) ?? new Set<string>();
      set.add(key);
      this.podsByWorkload.set(workload, set);
    }
    return workload;
  }

  private chain(key: string, work: () => Promise<void>): void {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work).catch((err) => this.processFailed(key, err));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Redis or the API failed mid-way: look at the pod again later (its latest state), so nothing is lost. */
  private processFailed(key: string, err: unknown): void {
    const attempt = this.retries.get(key) ?? 0;
    this.retries.set(key, attempt + 1);
    const delay = Math.min(500 * 2 ** attempt, 30_000);
    this.log.warn({ pod: key, err: String(err), retryInMs: delay }, 'could not record an alert; will look at the pod again');
    this.setTimer(`retry:${key}`, delay, () => this.reprocess(key));
  }

  private reprocess(key: string): void {
    const [ns, name] = key.split('/') as [string, string];
    const pod = this.podInformers.get(ns)?.get(name, ns);
    if (pod && !this.stopped) this.chain(key, () => this.process(pod));
  }

  private markSeen(uid: string, local: string, occurrence: number): void {
    const m = this.seen.get(uid) ?? new Map<string, number>();
    m.set(local, occurrence);
    this.seen.set(uid, m);
  }

  private async process(pod: V1Pod): Promise<void> {
    if (this.stopped) return;
    const ns = pod.metadata?.namespace ?? '';
    const key = podKey(ns, pod.metadata?.name);
    const uid = pod.metadata?.uid ?? key;
    const routes = this.routesByNs.get(ns);
    if (!routes) return;
    for (const finding of detect(pod)) {
      const candidates = routes.get(finding.kind) ?? [];
      if (candidates.length === 0) continue;
      const local = `${finding.kind}/${finding.container ?? ''}`;
      if ((this.seen.get(uid)?.get(local) ?? -1) >= finding.occurrence) continue;
      const t = this.now();
      if (Number.isFinite(finding.at) && finding.kind !== 'Unschedulable' && t - finding.at > (this.opts.maxAgeMs ?? 3_600_000)) {
        this.markSeen(uid, local, finding.occurrence); // history from before we watched, not news
        continue;
      }
      let due = candidates;
      if (finding.kind === 'Unschedulable') {
        // The condition's time is to the second: never earlier than the true transition, never later than when we saw it.
        const since = this.unschedulableSince.get(uid) ?? (Number.isFinite(finding.at) ? Math.min(t, finding.at + 1_000) : t);
        this.unschedulableSince.set(uid, since);
        finding.at = since;
        due = candidates.filter((r) => t - since >= r.pendingForMs);
        const later = candidates.filter((r) => t - since < r.pendingForMs);
        if (later.length > 0) {
          const wait = Math.min(...later.map((r) => since + r.pendingForMs - t));
          this.setTimer(`pending:${key}`, wait, () => this.reprocess(key));
        }
        if (due.length === 0) continue;
      }
      await this.record(pod, finding, due, uid, t);
      if (due.length === candidates.length) this.markSeen(uid, local, finding.occurrence);
    }
    this.retries.delete(key);
  }

  private async record(pod: V1Pod, finding: Finding, routes: readonly Route[], uid: string, t: number): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const w = workloadOf(pod);
    const keys = routes.map((r) => {
      const key: IncidentKey = { channel: r.channel, cluster: this.opts.cluster.name, namespace: ns, env: r.env, workload: w, kind: finding.kind };
      const id = incidentId(key);
      return { key, id, field: `${id}/${finding.container ?? ''}`, recoverAfterMs: r.pendingForMs };
    });
    const done = await this.opts.store.alreadyRecorded(uid, keys.map((k) => ({ field: k.field, occurrence: finding.occurrence })));
    const todo = keys.filter((_, i) => !done[i]);
    if (todo.length === 0) return;
    const diagnosis = await this.diagnose(pod, finding);
    const occurrence: Occurrence = {
      pod: pod.metadata?.name ?? '?',
      ...(finding.container ? { container: finding.container } : {}),
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      at: Number.isFinite(finding.at) ? finding.at : t,
      diagnosis,
    };
    for (const k of todo) {
      const res = await this.opts.store.record(k.key, k.recoverAfterMs, uid, k.field, finding.occurrence, occurrence, t);
      if (!res.recorded) continue;
      alertsTotal.inc({ kind: finding.kind });
      this.trackOpen({ id: res.id, gen: res.gen, workload: workloadKey(ns, w), recoverAfterMs: k.recoverAfterMs });
      await this.opts.enqueue(res.id, res.isNew);
    }
    this.evaluateWorkload(workloadKey(ns, w));
  }

  private async diagnose(pod: V1Pod, finding: Finding): Promise<Diagnosis> {
    const { cluster } = this.opts;
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const lines = this.opts.logLines ?? 20;
    switch (finding.kind) {
      case 'OOMKilled':
      case 'CrashLoopBackOff': {
        // The dead instance: the current one while it is still terminated, else the previous one.
        const status = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === finding.container);
        const previous = !status?.state?.terminated;
        const tail =
          (await readLogTail(cluster, ns, name, finding.container, lines, previous)) ??
          (await readLogTail(cluster, ns, name, finding.container, lines, !previous));
        return finding.kind === 'OOMKilled' ? diagnoseOom(pod, finding, tail) : diagnoseCrash(pod, finding, tail);
      }
      case 'ImagePullBackOff':
        return diagnoseImagePull(pod, finding, this.pullErrors.get(`${podKey(ns, name)}/${finding.container ?? ''}`));
      case 'Unschedulable': {
        const capacity = await this.capacityInputs();
        const schedulerMessage = this.schedulerMessages.get(podKey(ns, name));
        return diagnoseUnschedulable(pod, finding, { ...capacity, ...(schedulerMessage ? { schedulerMessage } : {}) });
      }
    }
  }

  /**
   * Nodes and the pods holding resources on them, in every namespace. Pods
   * diagnosed at the same time (a burst of pending pods) share one read.
   * Without the permission to list pods cluster-wide, the pods we watch stand in.
   */
  private capacityInputs(): Promise<Pick<UnschedulableInput, 'nodes' | 'pods' | 'countedNamespaces'>> {
    this.capacityRead ??= this.readCapacity().finally(() => (this.capacityRead = undefined));
    return this.capacityRead;
  }

  private async readCapacity(): Promise<Pick<UnschedulableInput, 'nodes' | 'pods' | 'countedNamespaces'>> {
    const { cluster } = this.opts;
    const nodes = await listNodes(cluster);
    try {
      return { nodes, pods: await podsOnNodes(cluster, nodes.map((n) => n.metadata?.name ?? '')) };
    } catch (err) {
      if (!(err instanceof ChatOpsError) || err.kind !== 'denied') throw err;
      this.log.warn('may not list pods in every namespace: node room counts only the pods of the watched namespaces');
      return { nodes, pods: [...this.podInformers.values()].flatMap((i) => i.list()), countedNamespaces: [...this.podInformers.keys()] };
    }
  }

  // ------------------------------------------------------------------ recovery

  private trackOpen(o: OpenIncident): void {
    const known = this.open.get(o.id);
    if (known && known.gen === o.gen) return;
    this.open.set(o.id, o);
    this.clearTimer(`recover:${o.id}`);
  }

  /** Every pod of the workload healthy for the incident's window → recovered; any unhealthy pod resets the clock. */
  private evaluateWorkload(workload: string): void {
    const incidents = [...this.open.values()].filter((o) => o.workload === workload);
    if (incidents.length === 0) return;
    if (!this.workloadHealthy(workload)) {
      this.healthySince.delete(workload);
      for (const o of incidents) this.clearTimer(`recover:${o.id}`);
      return;
    }
    const t = this.now();
    const since = this.healthySince.get(workload) ?? t;
    this.healthySince.set(workload, since);
    for (const o of incidents) {
      if (this.timers.has(`recover:${o.id}`)) continue;
      this.setTimer(`recover:${o.id}`, Math.max(0, since + o.recoverAfterMs - t), () => void this.tryRecover(o, workload));
    }
  }

  private workloadHealthy(workload: string): boolean {
    const [ns] = workload.split('/') as [string];
    const informer = this.podInformers.get(ns);
    for (const key of this.podsByWorkload.get(workload) ?? []) {
      const pod = informer?.get(key.slice(ns.length + 1), ns);
      if (pod && countsForRecovery(pod) && !podHealthy(pod)) return false;
    }
    return true;
  }

  private async tryRecover(o: OpenIncident, workload: string): Promise<void> {
    const since = this.healthySince.get(workload);
    const t = this.now();
    if (this.stopped || since === undefined || !this.workloadHealthy(workload) || this.open.get(o.id) !== o) return;
    try {
      if (await this.opts.store.recover(o.id, o.gen, t, t - since)) await this.opts.enqueue(o.id, false);
      this.open.delete(o.id);
    } catch (err) {
      this.log.warn({ incident: o.id, err: String(err) }, 'could not mark an incident recovered; will try again');
      this.setTimer(`recover:${o.id}`, 5_000, () => void this.tryRecover(o, workload));
    }
  }

  // ------------------------------------------------------------------ timers

  private setTimer(name: string, ms: number, fn: () => void): void {
    this.clearTimer(name);
    if (this.stopped) return;
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  private clearTimer(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }
}
