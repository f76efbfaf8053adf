/** Node bookkeeping and pod scheduling, with the scheduler's FailedScheduling wording. */
import type { EventRecorder } from './events.js';
import { milliCpu, quantity } from './quantity.js';
import { mustResource } from './resources.js';
import { nowTime, type Store, type StoreEvent } from './store.js';

const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');

interface Usage {
  cpu: number; // millicores
  mem: number; // bytes
  pods: number;
}

export interface PodRequests {
  cpu: number;
  mem: number;
}

export function podRequests(pod: any): PodRequests {
  let cpu = 0;
  let mem = 0;
  for (const c of pod?.spec?.containers ?? []) {
    cpu += milliCpu(c?.resources?.requests?.cpu);
    mem += quantity(c?.resources?.requests?.memory);
  }
  for (const c of pod?.spec?.initContainers ?? []) {
    cpu = Math.max(cpu, milliCpu(c?.resources?.requests?.cpu));
    mem = Math.max(mem, quantity(c?.resources?.requests?.memory));
  }
  return { cpu, mem };
}

function counts(pod: any): boolean {
  const phase = pod?.status?.phase;
  return !!pod?.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

function tolerates(tolerations: any[] | undefined, taint: any): boolean {
  for (const t of tolerations ?? []) {
    if (t.effect && t.effect !== taint.effect) continue;
    if (t.operator === 'Exists') {
      if (!t.key || t.key === taint.key) return true;
      continue;
    }
    if (t.key === taint.key && (t.value ?? '') === (taint.value ?? '')) return true;
  }
  return false;
}

function matchNodeSelectorTerm(term: any, labels: Record<string, string>): boolean {
  for (const e of term?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(v)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(v)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'Gt':
        if (!has || !(Number(v) > Number(e.values?.[0]))) return false;
        break;
      case 'Lt':
        if (!has || !(Number(v) < Number(e.values?.[0]))) return false;
        break;
    }
  }
  return true;
}

function matchesNode(pod: any, node: any): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return false;
  }
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0 && !terms.some((t) => matchNodeSelectorTerm(t, labels))) return false;
  return true;
}

export type ScheduleResult = { node: string } | { message: string };

export class Scheduler {
  private readonly usage = new Map<string, Usage>();
  private readonly accounted = new Map<string, { node: string; cpu: number; mem: number }>();
  /** unschedulable pods waiting for capacity: key ns/name → last message */
  readonly pending = new Map<string, string>();
  /** called when capacity may have grown */
  onCapacity: () => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  /** Keep per-node usage in step with every pod and node change (O(1) per event). */
  observe(ev: StoreEvent): void {
    if (ev.res === NODE) {
      if (ev.type !== 'DELETED') this.onCapacity();
      return;
    }
    if (ev.res !== POD) return;
    const key = `${ev.obj.metadata.namespace}/${ev.obj.metadata.name}`;
    const before = this.accounted.get(key);
    const now = ev.type !== 'DELETED' && counts(ev.obj) ? ev.obj : undefined;
    if (ev.type === 'DELETED') this.pending.delete(key);
    if (!before && !now) return;
    if (before && now && before.node === now.spec.nodeName && ev.prev && ev.prev.spec === now.spec) return;
    if (before) {
      const u = this.usage.get(before.node);
      if (u) {
        u.cpu -= before.cpu;
        u.mem -= before.mem;
        u.pods -= 1;
      }
      this.accounted.delete(key);
    }
    if (now) {
      const r = podRequests(now);
      const node = now.spec.nodeName as string;
      let u = this.usage.get(node);
      if (!u) this.usage.set(node, (u = { cpu: 0, mem: 0, pods: 0 }));
      u.cpu += r.cpu;
      u.mem += r.mem;
      u.pods += 1;
      this.accounted.set(key, { node, cpu: r.cpu, mem: r.mem });
    }
    if (before && !now) this.onCapacity();
  }

  nodeUsage(node: string): Usage {
    return { ...(this.usage.get(node) ?? { cpu: 0, mem: 0, pods: 0 }) };
  }

  /** Pick a node for the pod, or explain (in the scheduler's words) why none fits. */
  decide(pod: any): ScheduleResult {
    const nodes = this.store.list(NODE);
    if (nodes.length === 0) return { message: 'no nodes available to schedule pods' };
    const req = podRequests(pod);
    const reasons = new Map<string, number>();
    const preemption = new Map<string, number>();
    const bump = (m: Map<string, number>, k: string): void => {
      m.set(k, (m.get(k) ?? 0) + 1);
    };
    let best: { name: string; score: number } | undefined;
    for (const node of nodes) {
      const name: string = node.metadata.name;
      if (node.spec?.unschedulable) {
        bump(reasons, 'node(s) were unschedulable');
        bump(preemption, 'Preemption is not helpful for scheduling');
        continue;
      }
      const taint = (node.spec?.taints ?? []).find(
        (t: any) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t),
      );
      if (taint) {
        bump(reasons, `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
        bump(preemption, 'Preemption is not helpful for scheduling');
        continue;
      }
      if (!matchesNode(pod, node)) {
        bump(reasons, "node(s) didn't match Pod's node affinity/selector");
        bump(preemption, 'Preemption is not helpful for scheduling');
        continue;
      }
      const alloc = node.status?.allocatable ?? {};
      const cpuCap = milliCpu(alloc.cpu);
      const memCap = quantity(alloc.memory);
      const podCap = quantity(alloc.pods ?? 110);
      const u = this.usage.get(name) ?? { cpu: 0, mem: 0, pods: 0 };
      const fails: string[] = [];
      if (u.pods + 1 > podCap) fails.push('Too many pods');
      if (req.cpu > 0 && u.cpu + req.cpu > cpuCap) fails.push('Insufficient cpu');
      if (req.mem > 0 && u.mem + req.mem > memCap) fails.push('Insufficient memory');
      if (fails.length) {
        for (const f of fails) bump(reasons, f);
        bump(preemption, 'No preemption victims found for incoming pod');
        continue;
      }
      const score = (cpuCap ? (u.cpu + req.cpu) / cpuCap : 0) + (memCap ? (u.mem + req.mem) / memCap : 0) + u.pods / (podCap || 1) / 10;
      if (!best || score < best.score) best = { name, score };
    }
    if (best) return { node: best.name };
    const fmt = (m: Map<string, number>): string =>
      [...m.entries()]
        .map(([k, v]) => `${v} ${k}`)
        .sort()
        .join(', ');
    return {
      message: `0/${nodes.length} nodes are available: ${fmt(reasons)}. preemption: 0/${nodes.length} nodes are available: ${fmt(preemption)}.`,
    };
  }

  /** Try to schedule one pending pod (by key); writes the binding or the Unschedulable condition + event. Returns true when bound. */
  schedule(ns: string, name: string): boolean {
    const pod = this.store.get(POD, ns, name);
    const key = `${ns}/${name}`;
    if (!pod || pod.spec?.nodeName || (pod.spec?.schedulerName && pod.spec.schedulerName !== 'default-scheduler')) {
      this.pending.delete(key);
      return false;
    }
    const result = this.decide(pod);
    const now = nowTime();
    const others = (pod.status?.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
    if ('node' in result) {
      this.pending.delete(key);
      const bound = this.store.update(POD, {
        ...pod,
        metadata: { ...pod.metadata },
        spec: { ...pod.spec, nodeName: result.node },
        status: {
          ...pod.status,
          phase: 'Pending',
          conditions: [...others, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
        },
      });
      this.events.record(bound, {
        type: 'Normal',
        reason: 'Scheduled',
        message: `Successfully assigned ${ns}/${name} to ${result.node}`,
        component: 'default-scheduler',
      });
      return true;
    }
    const last = this.pending.get(key);
    this.pending.set(key, result.message);
    if (last === result.message) return false;
    const prevCond = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    const updated = this.store.update(POD, {
      ...pod,
      metadata: { ...pod.metadata },
      status: {
        ...pod.status,
        phase: 'Pending',
        conditions: [
          ...others,
          {
            type: 'PodScheduled',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: prevCond?.status === 'False' ? prevCond.lastTransitionTime : now,
            reason: 'Unschedulable',
            message: result.message,
          },
        ],
      },
    });
    this.events.record(updated, { type: 'Warning', reason: 'FailedScheduling', message: result.message, component: 'default-scheduler' });
    return false;
  }
}
