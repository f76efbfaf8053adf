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
