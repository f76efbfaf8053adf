/**
 * One cluster's watcher, run by the leader: pods and Warning events of the
 * namespaces alert rules cover → detect → diagnose (evidence.ts) → record the
 * occurrence in Redis (once) → ask delivery to bring Slack up to date. It also
 * waits out `pendingFor` for unschedulable pods and hands open incidents to
 * the recovery tracker (recovery.ts).
 */
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { AlertKind } from '../config/schema.js';
import type { ClusterClient } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import { alertsTotal } from '../server/metrics.js';
import { countsForRecovery, detect, podHealthy, slimPod, workloadOf, type Finding } from './detect.js';
import { Evidence, slimEvent } from './evidence.js';
import { incidentId, type IncidentKey, type IncidentStore } from './incidents.js';
import type { Occurrence } from './messages.js';
import { RecoveryTracker } from './recovery.js';
import type { NodeRule, Route, WatchTarget } from './routes.js';
import { NodeWatch, nodeKey } from './node-watch.js';
import { Timers } from './timers.js';
import { ResilientInformer } from './watch.js';
import { podKey, WorkloadIndex, workloadKey } from './workloads.js';

export interface MonitorOptions {
  cluster: ClusterClient;
  targets: readonly WatchTarget[];
  /** Rules taking node alerts in this cluster: the nodes are watched when there are any. */
  nodeRules?: readonly NodeRule[];
  store: IncidentStore;
  enqueue: (id: string, isNew: boolean) => Promise<void>;
  log: Logger;
  now?: () => number;
  /** Terminations older than this when first seen are history, not alerts (default 1 h). */
  maxAgeMs?: number;
  /** Log lines kept with an OOMKilled or crash-loop alert (default 20). */
  logLines?: number;
  /** Watch restart backoff (see watch.ts). */
  backoffMs?: (attempt: number) => number;
  /** Page size of the initial lists (default 500). */
  pageSize?: number;
}

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
  private readonly retries = new Map<string, number>();
  private readonly timers = new Timers();
  /** The CronJob owning each watched Job (`ns/name`), null for a Job of its own: pods of a CronJob's runs group under it. */
  private readonly cronJobOfJob = new Map<string, string | null>();
  private readonly cronJobOf = (ns: string, job: string) => this.cronJobOfJob.get(`${ns}/${job}`);
  private readonly workloads = new WorkloadIndex(this.cronJobOf);
  private readonly jobInformers: ResilientInformer<V1Job>[] = [];
  private readonly evidence: Evidence;
  private readonly recovery: RecoveryTracker;
  private readonly nodes: NodeWatch | undefined;
  private stopped = false;
  private onStop!: () => void;
  private readonly stopping = new Promise<void>((resolve) => (this.onStop = resolve));

  constructor(private readonly opts: MonitorOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    for (const t of opts.targets) this.routesByNs.set(t.namespace, t.routes);
    this.evidence = new Evidence({
      cluster: opts.cluster,
      log: this.log,
      logLines: opts.logLines ?? 20,
      watched: () => ({ pods: [...this.podInformers.values()].flatMap((i) => i.list()), namespaces: [...this.podInformers.keys()] }),
    });
    this.recovery = new RecoveryTracker({
      store: opts.store,
      enqueue: opts.enqueue,
      healthy: (w) => (w.startsWith('node:') ? (this.nodes?.healthy(w) ?? true) : this.workloadHealthy(w)),
      now: this.now,
      log: this.log,
      timers: this.timers,
      isStopped: () => this.stopped,
    });
    this.nodes = opts.nodeRules?.length
      ? new NodeWatch({
          cluster: opts.cluster,
          rules: opts.nodeRules,
          store: opts.store,
          enqueue: opts.enqueue,
          recovery: this.recovery,
          timers: this.timers,
          log: this.log,
          now: this.now,
          podsOn: (node) => this.podsOn(node),
          isStopped: () => this.stopped,
          ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
          ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
        })
      : undefined;
  }

  /** Pods of the watched namespaces bound to the node, not finished and not being deleted. */
  private podsOn(node: string): V1Pod[] {
    return [...this.podInformers.values()].flatMap((i) => i.list().filter((p) => p.spec?.nodeName === node && countsForRecovery(p)));
  }

  /** Starts the watches; resolves when every initial list is cached and open incidents are re-armed. */
  async start(): Promise<void> {
    // A monitor is started once: after stop() (even one that raced with this start) it opens nothing.
    if (this.stopped || this.podInformers.size > 0) return;
    const { cluster } = this.opts;
    for (const { namespace } of this.opts.targets) {
      const common = {
        kubeConfig: cluster.kubeConfig,
        log: this.log,
        ...(this.opts.pageSize ? { pageSize: this.opts.pageSize } : {}),
        ...(this.opts.backoffMs ? { backoffMs: this.opts.backoffMs } : {}),
      };
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
        onAdd: (e) => this.evidence.onEvent(e),
        onUpdate: (e) => this.evidence.onEvent(e),
      });
      // Jobs, for their owner: the runs of a CronJob are one workload.
      const jobs = new ResilientInformer<V1Job>({
        ...common,
        resource: 'jobs',
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        slim: slimJob,
        onAdd: (j) => this.onJob(j),
        onUpdate: (j) => this.onJob(j),
        onDelete: (j) => this.cronJobOfJob.delete(`${j.metadata?.namespace ?? ''}/${j.metadata?.name ?? ''}`),
      });
      this.podInformers.set(namespace, pods);
      this.eventInformers.push(events);
      this.jobInformers.push(jobs);
    }
    const open = await this.opts.store.openIncidents().catch((err: unknown) => {
      this.log.warn({ err }, 'could not read open incidents; recoveries of earlier incidents will be announced on their next occurrence');
      return [];
    });
    for (const s of open) {
      if (s.cluster !== cluster.name) continue;
      if (s.workload.kind === 'Node' && s.condition) {
        if (this.nodes)
          this.recovery.track(
            { id: s.id, gen: s.gen, workload: nodeKey(s.workload.name, s.condition), recoverAfterMs: s.recoverAfterMs },
            s.lastAt,
          );
        continue;
      }
      if (!this.routesByNs.has(s.namespace)) continue;
      this.recovery.track(
        { id: s.id, gen: s.gen, workload: workloadKey(s.namespace, s.workload), recoverAfterMs: s.recoverAfterMs },
        s.lastAt,
      );
    }
    if (this.stopped) return; // stopped while reading the open incidents
    // Jobs first, so that pods listed next group under their CronJob (the name pattern covers a Job not yet seen);
    // pods before nodes: the node watch names the workloads on a node from the pod caches.
    const informers = [
      ...this.jobInformers,
      ...this.eventInformers,
      ...this.podInformers.values(),
      ...(this.nodes ? [this.nodes.informer] : []),
    ];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.race([Promise.all(informers.map((i) => i.synced)), this.stopping]);
    if (this.stopped) return;
    this.nodes?.recheck();
    for (const workload of this.recovery.workloads()) this.recovery.evaluate(workload);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop();
    this.timers.stop();
    await Promise.all(
      [...this.podInformers.values(), ...this.eventInformers, ...this.jobInformers, ...(this.nodes ? [this.nodes.informer] : [])].map((i) =>
        i.stop(),
      ),
    );
    await Promise.allSettled([...this.chains.values(), this.nodes?.settled()]);
  }

  /** Pods currently cached (for tests and the bench). */
  podCount(): number {
    let n = 0;
    for (const i of this.podInformers.values()) n += i.list().length;
    return n;
  }

  // ------------------------------------------------------------------ pods

  private onJob(job: V1Job): void {
    const owner = job.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'CronJob');
    this.cronJobOfJob.set(`${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`, owner?.name ?? null);
  }

  private onPod(pod: V1Pod): void {
    if (this.stopped) return;
    const key = podKey(pod.metadata?.namespace, pod.metadata?.name);
    const workload = this.workloads.add(key, pod);
    if (pod.spec?.nodeName) {
      this.unschedulableSince.delete(pod.metadata?.uid ?? '');
      this.timers.clear(`pending:${key}`);
    }
    if (this.chains.has(key) || detect(pod).length > 0) this.chain(key, () => this.process(pod));
    this.recovery.evaluate(workload);
  }

  private onPodDeleted(pod: V1Pod): void {
    const key = podKey(pod.metadata?.namespace, pod.metadata?.name);
    const workload = this.workloads.remove(key);
    const uid = pod.metadata?.uid ?? '';
    this.seen.delete(uid);
    this.unschedulableSince.delete(uid);
    this.retries.delete(key);
    this.evidence.forget(key);
    this.timers.clear(`pending:${key}`);
    this.timers.clear(`retry:${key}`);
    if (workload) this.recovery.evaluate(workload);
  }

  private chain(key: string, work: () => Promise<void>): void {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => this.processFailed(key, err));
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
    this.log.warn({ pod: key, err, retryInMs: delay }, 'could not record an alert; will look at the pod again');
    this.timers.set(`retry:${key}`, delay, () => this.reprocess(key));
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
          this.timers.set(`pending:${key}`, wait, () => this.reprocess(key));
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
    const w = workloadOf(pod, this.cronJobOf);
    const keys = routes.map((r) => {
      const key: IncidentKey = {
        channel: r.channel,
        cluster: this.opts.cluster.name,
        namespace: ns,
        env: r.env,
        workload: w,
        kind: finding.kind,
      };
      const id = incidentId(key);
      return {
        key,
        id,
        field: `${id}/${finding.container ?? ''}`,
        timing: { recoverAfterMs: r.recoverAfterMs, reopenWithinMs: r.reopenWithinMs },
      };
    });
    const done = await this.opts.store.alreadyRecorded(
      uid,
      keys.map((k) => ({ field: k.field, occurrence: finding.occurrence })),
    );
    const todo = keys.filter((_, i) => !done[i]);
    if (todo.length === 0) return;
    const workload = workloadKey(ns, w);
    this.recovery.occurred(workload, t);
    const diagnosis = await this.evidence.diagnose(pod, finding);
    const occurrence: Occurrence = {
      pod: pod.metadata?.name ?? '?',
      ...(finding.container ? { container: finding.container } : {}),
      ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      at: Number.isFinite(finding.at) ? finding.at : t,
      diagnosis,
    };
    for (const k of todo) {
      const res = await this.opts.store.record(k.key, k.timing, uid, k.field, finding.occurrence, occurrence, t);
      if (!res.recorded) continue;
      alertsTotal.inc({ kind: finding.kind });
      this.recovery.track({ id: res.id, gen: res.gen, workload, recoverAfterMs: k.timing.recoverAfterMs });
      await this.opts.enqueue(res.id, res.isNew);
    }
    this.recovery.evaluate(workload);
  }

  /** Every pod of the workload that counts is healthy (see detect.ts). */
  private workloadHealthy(workload: string): boolean {
    const [ns] = workload.split('/') as [string];
    const informer = this.podInformers.get(ns);
    for (const key of this.workloads.pods(workload)) {
      const pod = informer?.get(key.slice(ns.length + 1), ns);
      if (pod && countsForRecovery(pod) && !podHealthy(pod)) return false;
    }
    return true;
  }
}

/** A Job as the alerts keep it: its name and owner, nothing else. */
function slimJob(job: V1Job): V1Job {
  const m = job.metadata ?? {};
  return {
    apiVersion: job.apiVersion,
    kind: job.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(m.ownerReferences ? { ownerReferences: m.ownerReferences } : {}),
    },
  } as V1Job;
}
