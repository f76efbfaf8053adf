/**
 * A node that stops reporting, as the node lifecycle controller records it: the
 * Ready condition goes Unknown ("Kubelet stopped posting node status.") and the
 * node gets the `node.kubernetes.io/unreachable` NoSchedule and NoExecute taints,
 * so the scheduler places nothing new there. Ready again removes both.
 * Built on the emulator's public API (get/update), so it fires MODIFIED like the real thing.
 */
import type { KubeEmulator } from './index.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function setNodeReady(kube: KubeEmulator, name: string, ready: boolean): any {
  const node = kube.get('v1', 'Node', undefined, name);
  if (!node) throw new Error(`kube emulator: node ${name} not found`);
  const at = now();
  node.status.conditions = (node.status.conditions ?? []).map((c: any) => {
    if (ready) {
      if (c.type === 'Ready')
        return {
          ...c,
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: at,
          lastTransitionTime: c.status === 'True' ? c.lastTransitionTime : at,
        };
      return { ...c, status: 'False', lastHeartbeatTime: at, lastTransitionTime: c.status === 'False' ? c.lastTransitionTime : at };
    }
    // Every condition goes Unknown: nobody reports them any more.
    return {
      ...c,
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastTransitionTime: c.status === 'Unknown' ? c.lastTransitionTime : at,
    };
  });
  const others = (node.spec.taints ?? []).filter((t: any) => t.key !== UNREACHABLE_TAINT);
  const taints = ready
    ? others
    : [
        ...others,
        { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: at },
        { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: at },
      ];
  if (taints.length) node.spec.taints = taints;
  else delete node.spec.taints;
  return kube.update(node);
}

export function nodeIsReady(node: any): boolean {
  return (node.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

export type NodeConditionType = 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** What the kubelet reports for each condition (reason, message) when bad and when good. */
const KUBELET_SAYS: Record<NodeConditionType, { bad: [string, string]; good: [string, string]; taint: string }> = {
  Ready: {
    bad: [
      'KubeletNotReady',
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    ],
    good: ['KubeletReady', 'kubelet is posting ready status'],
    taint: 'node.kubernetes.io/not-ready',
  },
  MemoryPressure: {
    bad: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    good: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    taint: 'node.kubernetes.io/memory-pressure',
  },
  DiskPressure: {
    bad: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    good: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    taint: 'node.kubernetes.io/disk-pressure',
  },
  PIDPressure: {
    bad: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    good: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    taint: 'node.kubernetes.io/pid-pressure',
  },
};

/**
 * The kubelet reports one condition (Ready False = the kubelet says not ready; a pressure True = short of
 * that resource), with the kubelet's reason and message (or the given ones), and the node lifecycle
 * controller taints the node as it does (TaintNodesByCondition: not-ready NoSchedule + NoExecute,
 * memory/disk/pid-pressure NoSchedule); the healthy status removes the taint. lastTransitionTime
 * moves only when the status changes. One update of the Node: one MODIFIED watch event.
 */
export function setNodeCondition(
  kube: KubeEmulator,
  name: string,
  type: NodeConditionType,
  bad: boolean,
  opts: { reason?: string; message?: string } = {},
): any {
  const node = kube.get('v1', 'Node', undefined, name);
  if (!node) throw new Error(`kube emulator: node ${name} not found`);
  const says = KUBELET_SAYS[type];
  const status = type === 'Ready' ? (bad ? 'False' : 'True') : bad ? 'True' : 'False';
  const [reason, message] = bad ? says.bad : says.good;
  const at = now();
  node.status.conditions = (node.status.conditions ?? []).map((c: any) => {
    const heartbeat = c.status === 'Unknown' ? c : { ...c, lastHeartbeatTime: at };
    if (c.type !== type) return heartbeat;
    return {
      ...heartbeat,
      status,
      reason: opts.reason ?? reason,
      message: opts.message ?? message,
      lastTransitionTime: c.status === status ? c.lastTransitionTime : at,
    };
  });
  const others = (node.spec.taints ?? []).filter((t: any) => t.key !== says.taint);
  const effects = type === 'Ready' ? ['NoSchedule', 'NoExecute'] : ['NoSchedule'];
  const taints = bad ? [...others, ...effects.map((effect) => ({ key: says.taint, effect, timeAdded: at }))] : others;
  if (taints.length) node.spec.taints = taints;
  else delete node.spec.taints;
  return kube.update(node);
}

/** The kubelet's eviction message for a pod starved of `resource`, as the eviction manager words it. */
export function evictionMessage(pod: any, resource: 'memory' | 'ephemeral-storage' | 'pids' = 'memory'): string {
  const c = pod.spec?.containers?.[0];
  if (resource === 'pids') return 'The node was low on resource: pids. Threshold quantity: 1000, available: 12. ';
  const threshold = resource === 'memory' ? '100Mi' : '10%';
  const request = c?.resources?.requests?.[resource] ?? '0';
  return `The node was low on resource: ${resource}. Threshold quantity: ${threshold}, available: 51200Ki. Container ${c?.name ?? 'app'} was using 180Mi, request is ${request}, has larger consumption of ${resource}. `;
}
