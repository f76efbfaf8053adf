/**
 * Node health for the cluster monitor: watches the cluster's nodes (run by the
 * leader, with the pod watches), turns a condition that goes bad into an
 * occurrence of an incident per channel × node × condition (NodeNotReady,
 * NodePressure), and tells the recovery tracker when it clears. The incidents
 * flow through the same store, delivery and recovery as pod alerts.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import { alertsTotal } from '../server/metrics.js';
import { workloadOf } from './detect.js';
import { incidentId, type IncidentKey, type IncidentStore } from './incidents.js';
import type { Occurrence } from './messages.js';
import {
  conditionCleared,
  NODE_CONDITIONS,
  nodeFindings,
  nodeSuggestion,
  slimNode,
  type NodeDiagnosis,
  type NodeFinding,
  type WorkloadsOnNode,
} from './node-health.js';
import { capNodeDiagnosis } from './node-health.js';
import type { RecoveryTracker } from './recovery.js';
import { routeNodeFinding, type NodeRule } from './routes.js';
import type { Timers } from './timers.js';
import { ResilientInformer } from './watch.js';

/** The recovery tracker's key for a node's condition (pod workloads are `ns/kind/name`, never with a colon). */
export const nodeKey = (node: string, condition: string): string => `node:${node}/${condition}`;

export interface NodeWatchOptions {
  cluster: ClusterClient;
  rules: readonly NodeRule[];
  store: IncidentStore;
  enqueue: (id: string, isNew: boolean) => Promise<void>;
  recovery: RecoveryTracker;
  timers: Timers;
  log: Logger;
  now: () => number;
  /** Pods of the watched namespaces bound to the node (finished and deleting ones excluded). */
  podsOn(node: string): V1Pod[];
  isStopped(): boolean;
  backoffMs?: (attempt: number) => number;
  pageSize?: number;
}

export class NodeWatch {
  readonly informer: ResilientInformer<V1Node>;
  private readonly chains = new Map<string, Promise<void>>();
  /** Per node uid → `${kind}/${condition}` → the transition already recorded. */
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly retries = new Map<string, number>();
  /** `${node uid}/${kind}/${condition}` → the transition being waited out and since when it has been bad (ms). */
  private readonly badSince = new Map<string, { occurrence: number; since: number }>();
  /** Namespace → the environment it is shown under. */
  private readonly envOf = new Map<string, string>();

  constructor(private readonly opts: NodeWatchOptions) {
    for (const rule of opts.rules) for (const e of rule.environments) if (!this.envOf.has(e.namespace)) this.envOf.set(e.namespace, e.env);
    this.informer = new ResilientInformer<V1Node>({
      kubeConfig: opts.cluster.kubeConfig,
      log: opts.log,
      resource: 'nodes',
      path: '/api/v1/nodes',
      slim: slimNode,
      ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
      ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
      onAdd: (n) => this.onNode(n),
      onUpdate: (n) => this.onNode(n),
      onDelete: (n) => this.evaluate(n.metadata?.name ?? ''),
    });
  }

  /** Is the condition of this recovery key cleared (a node that is gone has)? */
  healthy(key: string): boolean {
    const [node = '', condition = ''] = key.slice('node:'.length).split('/');
    return conditionCleared(this.informer.get(node), condition);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  /** After the initial lists: nodes seen before the pods were cached may have had no route yet. */
  recheck(): void {
    for (const node of this.informer.list()) this.onNode(node);
  }

  private evaluate(node: string): void {
    for (const c of NODE_CONDITIONS) this.opts.recovery.evaluate(nodeKey(node, c));
  }

  private onNode(node: V1Node): void {
    if (this.opts.isStopped()) return;
    const name = node.metadata?.name ?? '';
    if (this.chains.has(name) || nodeFindings(node).length > 0) this.chain(name, () => this.process(name));
    this.evaluate(name);
  }

  private chain(name: string, work: () => Promise<void>): void {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => {
      const attempt = this.retries.get(name) ?? 0;
      this.retries.set(name, attempt + 1);
      const delay = Math.min(500 * 2 ** attempt, 30_000);
      this.opts.log.warn({ node: name, err, retryInMs: delay }, 'could not record a node alert; will look at the node again');
      this.opts.timers.set(`node-retry:${name}`, delay, () => this.chain(name, () => this.process(name)));
    });
    this.chains.set(name, next);
    void next.then(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    });
  }

  /** What runs on the node, per environment; and the namespaces, for routing. */
  private affected(name: string): { namespaces: Set<string>; affected: WorkloadsOnNode[] } {
    const namespaces = new Set<string>();
    const byEnv = new Map<string, Map<string, { kind: string; name: string; pods: number }>>();
    for (const pod of this.opts.podsOn(name)) {
      const ns = pod.metadata?.namespace ?? '';
      const env = this.envOf.get(ns);
      if (!env) continue;
      namespaces.add(ns);
      const w = workloadOf(pod);
      const workloads = byEnv.get(env) ?? new Map<string, { kind: string; name: string; pods: number }>();
      byEnv.set(env, workloads);
      const key = `${w.kind}/${w.name}`;
      const entry = workloads.get(key) ?? { kind: w.kind, name: w.name, pods: 0 };
      entry.pods++;
      workloads.set(key, entry);
    }
    const affected = [...byEnv]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([env, ws]) => ({ env, workloads: [...ws.values()].sort((a, b) => a.name.localeCompare(b.name)) }));
    return { namespaces, affected };
  }

  private async process(name: string): Promise<void> {
    const node = this.informer.get(name);
    if (!node || this.opts.isStopped()) return;
    const uid = node.metadata?.uid ?? name;
    for (const f of nodeFindings(node)) {
      const local = `${f.kind}/${f.condition}`;
      if ((this.seen.get(uid)?.get(local) ?? -1) >= f.occurrence) continue;
      const { namespaces, affected } = this.affected(name);
      const routes = routeNodeFinding(this.opts.rules, f.kind, namespaces);
      if (routes.length === 0) continue; // nothing of ours there (yet): looked at again on the node's next change
      // A condition must last the rule's `pendingFor` (as an unschedulable pod does): a brief flap posts nothing.
      const t = this.opts.now();
      const since = this.bad(`${uid}/${local}`, f, t);
      const due = routes.filter((r) => t - since >= r.pendingForMs);
      const later = routes.filter((r) => t - since < r.pendingForMs);
      if (later.length > 0) {
        const wait = Math.min(...later.map((r) => since + r.pendingForMs - t));
        this.opts.timers.set(`node-pending:${name}/${local}`, wait, () => this.chain(name, () => this.process(name)));
      }
      if (due.length === 0) continue;
      await this.record(uid, f, due, affected);
      if (due.length < routes.length) continue;
      this.badSince.delete(`${uid}/${local}`);
      const m = this.seen.get(uid) ?? new Map<string, number>();
      m.set(local, f.occurrence);
      this.seen.set(uid, m);
    }
    this.retries.delete(name);
  }

  /**
   * Since when the condition has been bad: its transition time (to the second, so never earlier than the
   * true one, never later than when it was seen), or when it was first seen if the API did not say.
   */
  private bad(key: string, f: NodeFinding, t: number): number {
    const known = this.badSince.get(key);
    if (known?.occurrence === f.occurrence) return known.since;
    const since = Number.isFinite(f.at) ? Math.min(t, f.at + 1_000) : t;
    this.badSince.set(key, { occurrence: f.occurrence, since });
    return since;
  }

  private async record(uid: string, f: NodeFinding, routes: ReturnType<typeof routeNodeFinding>, affected: WorkloadsOnNode[]) {
    const t = this.opts.now();
    const keys = routes.map((r) => {
      const key: IncidentKey = {
        channel: r.channel,
        cluster: this.opts.cluster.name,
        namespace: '',
        env: r.env,
        workload: { kind: 'Node', name: f.node },
        kind: f.kind,
        condition: f.condition,
      };
      const id = incidentId(key);
      return { key, field: `${id}/${f.condition}`, timing: { recoverAfterMs: r.recoverAfterMs, reopenWithinMs: r.reopenWithinMs } };
    });
    const done = await this.opts.store.alreadyRecorded(
      uid,
      keys.map((k) => ({ field: k.field, occurrence: f.occurrence })),
    );
    const todo = keys.filter((_, i) => !done[i]);
    if (todo.length === 0) return;
    const workload = nodeKey(f.node, f.condition);
    this.opts.recovery.occurred(workload, t);
    const diagnosis: NodeDiagnosis = capNodeDiagnosis({
      kind: f.kind,
      node: f.node,
      condition: f.condition,
      status: f.status,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.message ? { message: f.message } : {}),
      at: f.at,
      affected,
      suggestion: nodeSuggestion(f),
    });
    const occurrence: Occurrence = { pod: f.node, node: f.node, at: Number.isFinite(f.at) ? f.at : t, diagnosis };
    for (const k of todo) {
      const res = await this.opts.store.record(k.key, k.timing, uid, k.field, f.occurrence, occurrence, t);
      if (!res.recorded) continue;
      alertsTotal.inc({ kind: f.kind });
      this.opts.recovery.track({ id: res.id, gen: res.gen, workload, recoverAfterMs: k.timing.recoverAfterMs });
      await this.opts.enqueue(res.id, res.isNew);
    }
    this.opts.recovery.evaluate(workload);
  }
}
