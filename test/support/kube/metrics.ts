/**
 * metrics.k8s.io (metrics-server) for the emulator, and the memory model behind
 * it that the Prometheus emulator shares. Each container run (one containerID)
 * is recorded from the pod watch as the controller changes it; its working set
 * sits near a base (the memory request, else half the limit, else 96 Mi) and
 * climbs to the limit before an OOM kill: over the last second of a run the
 * kubelet OOM-killed, or over the announced rise (`announceOomKill`).
 *
 * Served as metrics-server does: GET (get/list, label and field selectors) of
 * `pods` (namespaced or across namespaces) and `nodes`; other methods and
 * watches 405; a pod without running containers is not listed and is a 404 by
 * name; no group at all (404, absent from discovery) when disabled.
 */
import { mustResource } from './resources.js';
import { ApiError, methodNotAllowed } from './status.js';
import { makeObjectFilter } from './selectors.js';
import { quantity } from './quantity.js';
import type { Store, StoreEvent } from './store.js';

const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;
const Mi = 2 ** 20;
/** What the node itself uses besides its pods. */
const NODE_OVERHEAD = { memory: 384 * Mi, cpuNano: 120e6 };
const KILL_RISE_MS = 1_000;

export interface ContainerRun {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  containerID: string;
  start: number;
  end?: number;
  reason?: string;
  /** Bytes the run sits at, and the limit it climbs to. */
  base: number;
  limit?: number;
  cpuNano: number;
  /** When the climb to the limit starts (a kill then follows at `killAt`). */
  riseFrom?: number;
  killAt?: number;
}

export interface MetricsAccess {
  isDenied(a: { verb: string; group: string; resource: string; namespace?: string; name?: string }): boolean;
  forbidden(resource: string, verb: string, namespace: string | undefined, name: string | undefined): ApiError;
}

function baseMemory(spec: any): { base: number; limit?: number } {
  const request = quantity(spec?.resources?.requests?.memory);
  const limit = quantity(spec?.resources?.limits?.memory);
  const base = request > 0 ? (limit > 0 ? Math.min(request, limit / 2) : request) : limit > 0 ? limit / 2 : 96 * Mi;
  return limit > 0 ? { base, limit } : { base };
}

/** Working set of a run at time t (undefined outside the run). */
export function runMemory(run: ContainerRun, t: number): number | undefined {
  if (t < run.start || (run.end !== undefined && t > run.end)) return undefined;
  const peak = run.limit ?? run.base * 2;
  // A small deterministic wave, so the line is not flat.
  const steady = run.base * (1 + 0.02 * Math.sin((t - run.start) / 7_000));
  const killAt = run.reason === 'OOMKilled' ? run.end : run.killAt;
  if (killAt === undefined) return steady;
  const from = run.riseFrom ?? Math.max(run.start, killAt - KILL_RISE_MS);
  if (t < from) return steady;
  const share = killAt > from ? Math.min(1, (t - from) / (killAt - from)) : 1;
  return Math.round(steady + (peak - steady) * share);
}

export class MetricsModel {
  enabled = true;
  private readonly runs = new Map<string, ContainerRun[]>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    for (const pod of store.list(POD)) this.observePod(pod);
    this.unsubscribe = store.onChange((ev) => this.observe(ev));
  }

  close(): void {
    this.unsubscribe();
  }

  private observe(ev: StoreEvent): void {
    if (ev.res !== POD) return;
    if (ev.type === 'DELETED') {
      const t = this.now();
      for (const run of this.runsOfPod(ev.obj.metadata.namespace, ev.obj.metadata.name)) run.end ??= t;
      return;
    }
    this.observePod(ev.obj);
  }

  private runsOfPod(ns: string, pod: string): ContainerRun[] {
    return [...this.runs.entries()].filter(([k]) => k.startsWith(`${ns}/${pod}/`)).flatMap(([, v]) => v);
  }

  private observePod(pod: any): void {
    const t = this.now();
    const ns: string = pod.metadata.namespace;
    const name: string = pod.metadata.name;
    for (const cs of pod.status?.containerStatuses ?? []) {
      const key = `${ns}/${name}/${cs.name}`;
      const runs = this.runs.get(key) ?? [];
      const current = runs.at(-1);
      if (cs.state?.running && cs.containerID && current?.containerID !== cs.containerID) {
        if (current && current.end === undefined) current.end = t;
        const spec = (pod.spec?.containers ?? []).find((c: any) => c.name === cs.name);
        runs.push({
          namespace: ns,
          pod: name,
          container: cs.name,
          node: pod.spec?.nodeName ?? '',
          containerID: cs.containerID,
          start: t,
          ...baseMemory(spec),
          cpuNano: Math.max(5e6, quantity(spec?.resources?.requests?.cpu) * 0.4e9),
        });
        this.runs.set(key, runs);
      } else if (cs.state?.terminated && current && current.end === undefined) {
        current.end = t;
        current.reason = cs.state.terminated.reason;
        if (current.killAt !== undefined && current.reason === 'OOMKilled') current.end = Math.max(t, current.killAt);
      }
    }
  }

  /** The running container will be OOM-killed in `riseMs`: its memory climbs to the limit until then. */
  announceOomKill(ns: string, pod: string, container: string, riseMs: number): void {
    const run = this.runs.get(`${ns}/${pod}/${container}`)?.at(-1);
    if (!run || run.end !== undefined) throw new Error(`kube emulator: container ${ns}/${pod}/${container} is not running`);
    const t = this.now();
    run.riseFrom = t;
    run.killAt = t + riseMs;
  }

  /** Every container run recorded (the Prometheus emulator's series), optionally of one namespace. */
  allRuns(namespace?: string): ContainerRun[] {
    return [...this.runs.values()].flat().filter((r) => namespace === undefined || r.namespace === namespace);
  }

  private podMetrics(pod: any, t: number): any | undefined {
    const containers = this.runsOfPod(pod.metadata.namespace, pod.metadata.name)
      .filter((r) => r.end === undefined)
      .map((r) => ({
        name: r.container,
        usage: { cpu: `${Math.round(r.cpuNano)}n`, memory: `${Math.round((runMemory(r, t) ?? 0) / 1024)}Ki` },
      }));
    if (containers.length === 0) return undefined;
    return {
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        creationTimestamp: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
      },
      timestamp: new Date(t - 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      window: '15.012s',
      containers,
    };
  }

  private nodeMetrics(node: any, t: number): any {
    const running = this.allRuns().filter((r) => r.end === undefined && r.node === node.metadata.name);
    const memory = running.reduce((sum, r) => sum + (runMemory(r, t) ?? 0), NODE_OVERHEAD.memory);
    const cpu = running.reduce((sum, r) => sum + r.cpuNano, NODE_OVERHEAD.cpuNano);
    return {
      metadata: {
        name: node.metadata.name,
        creationTimestamp: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(node.metadata.labels ? { labels: node.metadata.labels } : {}),
      },
      timestamp: new Date(t - 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      window: '20.015s',
      usage: { cpu: `${Math.round(cpu)}n`, memory: `${Math.round(memory / 1024)}Ki` },
    };
  }

  /** Discovery: the APIGroup entry (for /apis) when enabled. */
  apiGroup(): object | undefined {
    if (!this.enabled) return undefined;
    const v = { groupVersion: GV, version: METRICS_VERSION };
    return { kind: 'APIGroup', apiVersion: 'v1', name: METRICS_GROUP, versions: [v], preferredVersion: v };
  }

  /**
   * A request under /apis/metrics.k8s.io: `rest` is the path after the group.
   * Returns the body to send with 200; throws ApiError for the refusals.
   */
  handle(method: string, rest: string[], q: URLSearchParams, access: MetricsAccess): object {
    const missing = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (!this.enabled) throw missing();
    if (rest.length === 0) {
      if (method !== 'GET') throw methodNotAllowed();
      return this.apiGroup()!;
    }
    if (rest[0] !== METRICS_VERSION) throw missing();
    if (rest.length === 1) {
      if (method !== 'GET') throw methodNotAllowed();
      const verbs = ['get', 'list'];
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: GV,
        resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs },
        ],
      };
    }
    let path = rest.slice(1);
    let ns: string | undefined;
    if (path[0] === 'namespaces' && path.length >= 3) {
      ns = path[1];
      path = path.slice(2);
    }
    const [resource, name, ...extra] = path;
    if ((resource !== 'pods' && resource !== 'nodes') || extra.length > 0 || (resource === 'nodes' && ns !== undefined)) throw missing();
    const watching = q.get('watch') === 'true' || q.get('watch') === '1';
    const verb = name === undefined ? 'list' : 'get';
    if (method !== 'GET' || watching) throw methodNotAllowed();
    if (access.isDenied({ verb, group: METRICS_GROUP, resource, ...(ns ? { namespace: ns } : {}), ...(name ? { name } : {}) }))
      throw access.forbidden(resource, verb, ns, name);
    const t = this.now();
    const filter = makeObjectFilter(q.get('labelSelector'), q.get('fieldSelector'));
    if (resource === 'nodes') {
      if (name !== undefined) {
        const node = this.store.get(NODE, undefined, name);
        if (!node) throw new ApiError(404, 'NotFound', `nodemetrics.metrics.k8s.io "${name}" not found`, notFoundDetails(name, 'nodes'));
        return { kind: 'NodeMetrics', apiVersion: GV, ...this.nodeMetrics(node, t) };
      }
      const items = this.store.list(NODE).filter((n: any) => !filter || filter(n));
      return { kind: 'NodeMetricsList', apiVersion: GV, metadata: {}, items: items.map((n: any) => this.nodeMetrics(n, t)) };
    }
    if (name !== undefined) {
      const pod = ns === undefined ? undefined : this.store.get(POD, ns, name);
      const m = pod && this.podMetrics(pod, t);
      if (!m)
        throw new ApiError(404, 'NotFound', `podmetrics.metrics.k8s.io "${ns ?? ''}/${name}" not found`, notFoundDetails(name, 'pods'));
      return { kind: 'PodMetrics', apiVersion: GV, ...m };
    }
    const pods = this.store.list(POD, ns).filter((p: any) => !filter || filter(p));
    const items = pods.flatMap((p: any) => {
      const m = this.podMetrics(p, t);
      return m ? [m] : [];
    });
    return { kind: 'PodMetricsList', apiVersion: GV, metadata: {}, items };
  }
}

function notFoundDetails(name: string, kind: string): Record<string, unknown> {
  return { name, group: METRICS_GROUP, kind };
}
