/**
 * The cluster panel: what the Kubernetes emulator holds (namespaces, nodes,
 * Deployments, pods per node), and the chaos a user can cause to see alerts.
 */
import { randomBytes } from 'node:crypto';
import type { KubeEmulator } from '../../test/support/kube/index.js';
import { nodeIsReady, setNodeReady } from '../../test/support/kube/node-health.js';

export interface ClusterSnapshot {
  namespaces: string[];
  nodes: { name: string; ready: boolean; zone?: string }[];
  deployments: { namespace: string; name: string; replicas: number; ready: number; updated: number; image: string }[];
  pods: {
    namespace: string;
    name: string;
    node?: string;
    phase: string;
    ready: boolean;
    restarts: number;
    reason?: string;
    image: string;
  }[];
}

export const CHAOS_ACTIONS = ['oom', 'crashloop', 'unpullable', 'unschedulable', 'node-down', 'node-up', 'heal'] as const;
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

export class ChaosError extends Error {}

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

function podReason(pod: any): string | undefined {
  for (const s of pod.status?.containerStatuses ?? []) {
    if (s.state?.waiting?.reason && s.state.waiting.reason !== 'ContainerCreating') return s.state.waiting.reason;
    if (s.state?.terminated?.reason) return s.state.terminated.reason;
  }
  const scheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled' && c.status === 'False');
  return scheduled?.reason;
}

export function clusterSnapshot(kube: KubeEmulator): ClusterSnapshot {
  const namespaces = kube
    .list('v1', 'Namespace')
    .map((n) => n.metadata.name as string)
    .filter((n) => !SYSTEM_NAMESPACES.has(n));
  return {
    namespaces,
    nodes: kube
      .list('v1', 'Node')
      .map((n) => ({ name: n.metadata.name, ready: nodeIsReady(n), zone: n.metadata.labels?.['topology.kubernetes.io/zone'] })),
    deployments: kube.list('apps/v1', 'Deployment').map((d) => ({
      namespace: d.metadata.namespace,
      name: d.metadata.name,
      replicas: d.spec?.replicas ?? 1,
      ready: d.status?.readyReplicas ?? 0,
      updated: d.status?.updatedReplicas ?? 0,
      image: d.spec?.template?.spec?.containers?.[0]?.image ?? '',
    })),
    pods: kube
      .list('v1', 'Pod')
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        namespace: p.metadata.namespace,
        name: p.metadata.name,
        ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
        phase: p.status?.phase ?? 'Pending',
        ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
        restarts: (p.status?.containerStatuses ?? []).reduce((n: number, s: any) => n + (s.restartCount ?? 0), 0),
        ...(podReason(p) ? { reason: podReason(p) } : {}),
        image: p.spec?.containers?.[0]?.image ?? '',
      })),
  };
}

export interface ChaosRequest {
  action: ChaosAction;
  namespace?: string;
  pod?: string;
  node?: string;
}

/** Causes one kind of trouble; returns a sentence saying what it did. */
export class Chaos {
  /** Images made to fail, so "heal" can make them good again. */
  private readonly brokenImages = new Set<string>();

  constructor(private readonly kube: KubeEmulator) {}

  run(req: ChaosRequest): string {
    switch (req.action) {
      case 'oom': {
        const pod = this.pod(req);
        this.kube.oomKill(req.namespace!, pod.metadata.name);
        return `OOM-killed ${pod.metadata.name}: the kernel stopped its container at its memory limit.`;
      }
      case 'crashloop':
      case 'unpullable': {
        const pod = this.pod(req);
        const image: string = pod.spec.containers[0].image;
        this.kube.setImageBehavior(image, req.action === 'crashloop' ? { kind: 'crashLoop' } : { kind: 'imagePullFailure' });
        this.brokenImages.add(image);
        // The running container keeps its image; a replacement pod meets the new behaviour.
        this.kube.remove('v1', 'Pod', req.namespace, pod.metadata.name);
        return req.action === 'crashloop'
          ? `${image} now exits at start-up; ${pod.metadata.name} was deleted so its replacement crash-loops.`
          : `${image} can no longer be pulled; ${pod.metadata.name} was deleted so its replacement cannot start.`;
      }
      case 'unschedulable': {
        const namespace = this.namespace(req);
        const name = `batch-report-${randomBytes(2).toString('hex')}`;
        this.kube.create({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
          spec: {
            replicas: 1,
            selector: { matchLabels: { 'app.kubernetes.io/name': name } },
            template: {
              metadata: { labels: { 'app.kubernetes.io/name': name } },
              spec: {
                containers: [
                  {
                    name: 'report',
                    image: 'registry.example.com/team/batch-report:2.0',
                    resources: { requests: { cpu: '500m', memory: '64Gi' } },
                  },
                ],
              },
            },
          },
        });
        return `Deployment ${name} in ${namespace} asks for 64Gi of memory: no node has that much, so its pod stays Pending.`;
      }
      case 'node-down':
      case 'node-up': {
        const node = req.node ?? '';
        if (!this.kube.get('v1', 'Node', undefined, node)) throw new ChaosError(`There is no node "${node}".`);
        setNodeReady(this.kube, node, req.action === 'node-up');
        return req.action === 'node-up'
          ? `${node} is Ready again.`
          : `${node} stopped reporting: NotReady, and tainted unreachable so nothing new is scheduled there.`;
      }
      case 'heal': {
        for (const image of this.brokenImages) this.kube.setImageBehavior(image, { kind: 'ready' });
        const healed = this.brokenImages.size;
        this.brokenImages.clear();
        for (const node of this.kube.list('v1', 'Node')) if (!nodeIsReady(node)) setNodeReady(this.kube, node.metadata.name, true);
        return `Images work again (${healed} fixed) and every node is Ready; pods created from now on start normally.`;
      }
    }
  }

  private namespace(req: ChaosRequest): string {
    const ns = req.namespace ?? '';
    if (!this.kube.get('v1', 'Namespace', undefined, ns)) throw new ChaosError(`There is no namespace "${ns}".`);
    return ns;
  }

  private pod(req: ChaosRequest): any {
    const ns = this.namespace(req);
    const pod = this.kube.get('v1', 'Pod', ns, req.pod ?? '');
    if (!pod) throw new ChaosError(`There is no pod "${req.pod ?? ''}" in ${ns}.`);
    if (!pod.spec?.nodeName || pod.status?.phase !== 'Running')
      throw new ChaosError(`${pod.metadata.name} is not running, so there is nothing to kill.`);
    return pod;
  }
}
