/**
 * Before `deploy` applies a rendered app: which of the objects it would write
 * already exist and are not the bot's. Any such object stops the deploy.
 */
import type { ClusterClient } from '../clusters.js';
import { readIfExists } from '../apply.js';
import type { RenderedApp } from '../render.js';
import { isOurs, managerOf, type KubeObject, type Manager } from './ownership.js';
import { workloadOps } from './kinds.js';
import type { AnyWorkload, WorkloadKind } from './types.js';

export interface ForeignObject {
  kind: string;
  name: string;
  manager: Manager;
  object: KubeObject;
}

export async function foreignObjects(cluster: ClusterClient, namespace: string, rendered: RenderedApp): Promise<ForeignObject[]> {
  const where = (kind: string, name: string) => `${kind.toLowerCase()} ${name} in namespace ${namespace}`;
  const name = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';
  const workloadKind = rendered.workload.kind as WorkloadKind;
  const reads: Array<Promise<[string, string, KubeObject | undefined]>> = [
    workloadOps(workloadKind)
      .readIfExists(cluster, namespace, name(rendered.workload))
      .then((o?: AnyWorkload) => [workloadKind, name(rendered.workload), o]),
    readIfExists(where('ConfigMap', name(rendered.configMap)), () =>
      cluster.core.readNamespacedConfigMap({ name: name(rendered.configMap), namespace }),
    ).then((o) => ['ConfigMap', name(rendered.configMap), o]),
  ];
  for (const svc of [rendered.service, rendered.headlessService]) {
    if (svc)
      reads.push(
        readIfExists(where('Service', name(svc)), () => cluster.core.readNamespacedService({ name: name(svc), namespace })).then((o) => [
          'Service',
          name(svc),
          o,
        ]),
      );
  }
  const ing = rendered.ingress;
  if (ing)
    reads.push(
      readIfExists(where('Ingress', name(ing)), () => cluster.networking.readNamespacedIngress({ name: name(ing), namespace })).then(
        (o) => ['Ingress', name(ing), o],
      ),
    );
  const found = await Promise.all(reads);
  return found
    .filter((f): f is [string, string, KubeObject] => f[2] !== undefined && !isOurs(f[2]))
    .map(([kind, objName, object]) => ({ kind, name: objName, manager: managerOf(object), object }));
}
