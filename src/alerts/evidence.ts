/**
 * What a diagnosis reads besides the pod: the scheduler's and the registry's
 * latest Warning events per pod (from the event watch), the killed container's
 * log tail, and the nodes' free room for an unschedulable pod.
 */
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { ClusterClient } from '../kube/clusters.js';
import { listNodes, podsOnNodes } from '../kube/cluster-capacity.js';
import { readLogTail } from '../kube/diagnose.js';
import { ChatOpsError } from '../errors/index.js';
import type { Logger } from '../log.js';
import type { Finding } from './detect.js';
import {
  capDiagnosis,
  diagnoseCrash,
  diagnoseImagePull,
  diagnoseOom,
  diagnoseUnschedulable,
  type Diagnosis,
  type UnschedulableInput,
} from './diagnose.js';
import { podKey } from './workloads.js';
import { diagnoseEvicted } from './node-health.js';

type CapacityInputs = Pick<UnschedulableInput, 'nodes' | 'pods' | 'countedNamespaces'>;

export interface EvidenceOptions {
  cluster: ClusterClient;
  log: Logger;
  /** Log lines kept with an OOMKilled or crash-loop alert. */
  logLines: number;
  /** The pods of the watched namespaces: stand-ins when pods cannot be listed cluster-wide. */
  watched(): { pods: V1Pod[]; namespaces: string[] };
}

/** Only what events say about pods is kept; the event watch caches this slim copy. */
export const slimEvent = (e: CoreV1Event): CoreV1Event => ({
  metadata: { name: e.metadata?.name, namespace: e.metadata?.namespace, resourceVersion: e.metadata?.resourceVersion },
  involvedObject: {
    kind: e.involvedObject?.kind,
    name: e.involvedObject?.name,
    namespace: e.involvedObject?.namespace,
    fieldPath: e.involvedObject?.fieldPath,
  },
  ...(e.reason ? { reason: e.reason } : {}),
  ...(e.message ? { message: e.message } : {}),
  ...(e.type ? { type: e.type } : {}),
});

export class Evidence {
  /** The scheduler's latest message per pod; the registry's latest error per pod/container. */
  private readonly schedulerMessages = new Map<string, string>();
  private readonly pullErrors = new Map<string, string>();
  private capacityRead: Promise<CapacityInputs> | undefined;

  constructor(private readonly opts: EvidenceOptions) {}

  onEvent(e: CoreV1Event): void {
    const obj = e.involvedObject;
    if (obj?.kind !== 'Pod' || !e.message) return;
    const key = podKey(obj.namespace ?? e.metadata?.namespace, obj.name);
    if (e.reason === 'FailedScheduling') this.schedulerMessages.set(key, e.message);
    else if (e.reason === 'Failed' && e.message.startsWith('Failed to pull image')) {
      const container = /spec\.(?:initC|c)ontainers\{(.+)\}/.exec(obj.fieldPath ?? '')?.[1] ?? '';
      this.pullErrors.set(`${key}/${container}`, e.message);
    }
  }

  /** The pod is gone: forget what events said about it. */
  forget(key: string): void {
    this.schedulerMessages.delete(key);
    for (const k of this.pullErrors.keys()) if (k.startsWith(`${key}/`)) this.pullErrors.delete(k);
  }

  /** The finding's diagnosis with its evidence, capped in size (it is stored with every occurrence). */
  async diagnose(pod: V1Pod, finding: Finding): Promise<Diagnosis> {
    return capDiagnosis(await this.diagnoseUncapped(pod, finding));
  }

  private async diagnoseUncapped(pod: V1Pod, finding: Finding): Promise<Diagnosis> {
    const { cluster, logLines: lines } = this.opts;
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    switch (finding.kind) {
      case 'OOMKilled':
      case 'CrashLoopBackOff': {
        // The dead instance: the current one while it is still terminated, else the previous one.
        const status = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
          (s) => s.name === finding.container,
        );
        const previous = !status?.state?.terminated;
        const tail =
          (await readLogTail(cluster, ns, name, finding.container, lines, previous)) ??
          (await readLogTail(cluster, ns, name, finding.container, lines, !previous));
        return finding.kind === 'OOMKilled' ? diagnoseOom(pod, finding, tail) : diagnoseCrash(pod, finding, tail);
      }
      case 'ImagePullBackOff':
        return diagnoseImagePull(pod, finding, this.pullErrors.get(`${podKey(ns, name)}/${finding.container ?? ''}`));
      case 'Evicted':
        return diagnoseEvicted(pod, finding.at);
      case 'NodeNotReady':
      case 'NodePressure':
        throw new Error(`${finding.kind} is a node's finding, not a pod's`);
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
  private capacityInputs(): Promise<CapacityInputs> {
    this.capacityRead ??= this.readCapacity().finally(() => (this.capacityRead = undefined));
    return this.capacityRead;
  }

  private async readCapacity(): Promise<CapacityInputs> {
    const { cluster } = this.opts;
    const nodes = await listNodes(cluster);
    try {
      return {
        nodes,
        pods: await podsOnNodes(
          cluster,
          nodes.map((n) => n.metadata?.name ?? ''),
        ),
      };
    } catch (err) {
      if (!(err instanceof ChatOpsError) || err.kind !== 'denied') throw err;
      this.opts.log.warn('may not list pods in every namespace: node room counts only the pods of the watched namespaces');
      const watched = this.opts.watched();
      return { nodes, pods: watched.pods, countedNamespaces: watched.namespaces };
    }
  }
}
