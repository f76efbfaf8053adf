/**
 * The three kinds of workload behind one interface: each reads, applies,
 * patches and (where it has replicas) scales through its own client-node calls,
 * and judges a rollout with kubectl's rule for that kind.
 */
import { PatchStrategy, setHeaderOptions, type V1DaemonSet, type V1Deployment, type V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterClient } from '../clusters.js';
import { badInput } from '../../errors/index.js';
import { fromKubeError, kubeCall, kubeStatusCode } from '../errors.js';
import { FIELD_MANAGER } from '../render.js';
import { rolloutState } from '../rollout.js';
import { FIELD_MANAGER_SCALE } from '../deployments.js';
import { write, type WriteOptions } from '../dry-run.js';
import { daemonSetRolloutState, statefulSetRolloutState } from './rollout-rules.js';
import { controllerRevisionWorkloadHistory } from './controller-revisions.js';
import { deploymentHistory } from './deployment-revisions.js';
import { describeWorkload, type AnyWorkload, type WorkloadKind, type WorkloadOps } from './types.js';

const applyOptions = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergeOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Call<T> = (cluster: ClusterClient) => Promise<T>;

function wrap<T>(kind: WorkloadKind, namespace: string, name: string, call: Call<T>, cluster: ClusterClient): Promise<T> {
  return kubeCall(call(cluster), describeWorkload(kind, name, namespace));
}

function define(
  kind: WorkloadKind,
  plural: string,
  calls: {
    read(c: ClusterClient, namespace: string, name: string): Promise<AnyWorkload>;
    list(c: ClusterClient, namespace: string): Promise<AnyWorkload[]>;
    patch(
      c: ClusterClient,
      namespace: string,
      name: string,
      body: object,
      fieldManager: string,
      force: boolean | undefined,
      strategy: PatchStrategy,
      dry: { dryRun?: 'All' },
    ): Promise<AnyWorkload>;
    scale?(c: ClusterClient, namespace: string, name: string, replicas: number, dry: { dryRun?: 'All' }): Promise<number>;
    rollout: (obj: AnyWorkload) => ReturnType<WorkloadOps['rolloutState']>;
    history: WorkloadOps['history'];
  },
): WorkloadOps {
  const readIfExists = async (cluster: ClusterClient, namespace: string, name: string) => {
    try {
      return await calls.read(cluster, namespace, name);
    } catch (err) {
      if (kubeStatusCode(err) === 404) return undefined;
      throw fromKubeError(err, describeWorkload(kind, name, namespace));
    }
  };
  /** A write to one workload; under a dry-run recorder, the live object is read first and recorded with the answer. */
  const writeTo = <T>(
    cluster: ClusterClient,
    namespace: string,
    name: string,
    opts: WriteOptions | undefined,
    send: (c: ClusterClient, dry: { dryRun?: 'All' }) => Promise<T>,
    asObject?: (answer: T, live: unknown) => unknown,
  ) =>
    wrap(
      kind,
      namespace,
      name,
      (c) =>
        write(
          opts,
          { kind, name, namespace },
          () => readIfExists(c, namespace, name),
          (dry) => send(c, dry),
          asObject,
        ),
      cluster,
    );
  return {
    kind,
    plural,
    read: (cluster, namespace, name) => wrap(kind, namespace, name, (c) => calls.read(c, namespace, name), cluster),
    readIfExists,
    list: (cluster, namespace) => kubeCall(calls.list(cluster, namespace), `${plural} in namespace ${namespace}`),
    apply: (cluster, body, force, opts) => {
      const { name, namespace } = body.metadata as { name: string; namespace: string };
      return writeTo(cluster, namespace, name, opts, (c, dry) =>
        calls.patch(c, namespace, name, body, FIELD_MANAGER, force, PatchStrategy.ServerSideApply, dry),
      );
    },
    patch: (cluster, namespace, name, body, strategy, fieldManager, opts) =>
      writeTo(cluster, namespace, name, opts, (c, dry) => calls.patch(c, namespace, name, body, fieldManager, undefined, strategy, dry)),
    ...(calls.scale
      ? {
          scale: (cluster: ClusterClient, namespace: string, name: string, replicas: number, opts?: WriteOptions) =>
            writeTo(
              cluster,
              namespace,
              name,
              opts,
              (c, dry) => calls.scale!(c, namespace, name, replicas, dry),
              // The scale subresource answers a Scale: the workload it stands for has that many replicas.
              (count, live) => withReplicas(live, count),
            ),
        }
      : {}),
    rolloutState: calls.rollout,
    history: calls.history,
  };
}

/** The live workload with the replica count a dry run of its scale subresource answered. */
function withReplicas(live: unknown, replicas: number): unknown {
  const obj = JSON.parse(JSON.stringify(live ?? {})) as { spec?: { replicas?: number } };
  return { ...obj, spec: { ...(obj.spec ?? {}), replicas } };
}

/**
 * A 422 for a StatefulSet field the API server keeps as created, with how to
 * change it anyway (orphan-delete, then deploy again); any other failure as fromKubeError reads it.
 */
function statefulSetImmutable(err: unknown, name: string, namespace: string): Error {
  const refusal = fromKubeError(err, describeWorkload('StatefulSet', name, namespace));
  if (kubeStatusCode(err) !== 422 || !refusal.userMessage.includes('updates to statefulset spec for fields other than')) return refusal;
  return badInput(
    `${refusal.userMessage} Kubernetes keeps a StatefulSet's volumeClaimTemplates (\`storage\`), serviceName, selector and podManagementPolicy as they were created. To change them, delete it but not its pods and volumes — \`kubectl delete statefulset ${name} -n ${namespace} --cascade=orphan\` — and deploy again: the new StatefulSet adopts the pods and keeps their claims.`,
    err,
  );
}

const opts = (strategy: PatchStrategy) =>
  strategy === PatchStrategy.ServerSideApply ? applyOptions : setHeaderOptions('Content-Type', strategy);

export const deploymentOps = define('Deployment', 'deployments', {
  read: (c, namespace, name) => c.apps.readNamespacedDeployment({ name, namespace }),
  list: async (c, namespace) => (await c.apps.listNamespacedDeployment({ namespace })).items,
  patch: (c, namespace, name, body, fieldManager, force, strategy, dry) =>
    c.apps.patchNamespacedDeployment(
      { name, namespace, body, fieldManager, ...(force !== undefined ? { force } : {}), ...dry },
      opts(strategy),
    ),
  scale: async (c, namespace, name, replicas, dry) =>
    (
      await c.apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER_SCALE, ...dry },
        mergeOptions,
      )
    ).spec?.replicas ?? replicas,
  rollout: (obj) => rolloutState(obj as V1Deployment),
  history: (cluster, live) => deploymentHistory(cluster, live as V1Deployment),
});

export const statefulSetOps = define('StatefulSet', 'statefulsets', {
  read: (c, namespace, name) => c.apps.readNamespacedStatefulSet({ name, namespace }),
  list: async (c, namespace) => (await c.apps.listNamespacedStatefulSet({ namespace })).items,
  patch: (c, namespace, name, body, fieldManager, force, strategy, dry) =>
    c.apps
      .patchNamespacedStatefulSet(
        { name, namespace, body, fieldManager, ...(force !== undefined ? { force } : {}), ...dry },
        opts(strategy),
      )
      .catch((err: unknown) => Promise.reject(statefulSetImmutable(err, name, namespace))),
  scale: async (c, namespace, name, replicas, dry) =>
    (
      await c.apps.patchNamespacedStatefulSetScale(
        { name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER_SCALE, ...dry },
        mergeOptions,
      )
    ).spec?.replicas ?? replicas,
  rollout: (obj) => statefulSetRolloutState(obj as V1StatefulSet),
  history: (cluster, live) => controllerRevisionWorkloadHistory(cluster, 'StatefulSet', live as V1StatefulSet),
});

export const daemonSetOps = define('DaemonSet', 'daemonsets', {
  read: (c, namespace, name) => c.apps.readNamespacedDaemonSet({ name, namespace }),
  list: async (c, namespace) => (await c.apps.listNamespacedDaemonSet({ namespace })).items,
  patch: (c, namespace, name, body, fieldManager, force, strategy, dry) =>
    c.apps.patchNamespacedDaemonSet(
      { name, namespace, body, fieldManager, ...(force !== undefined ? { force } : {}), ...dry },
      opts(strategy),
    ),
  rollout: (obj) => daemonSetRolloutState(obj as V1DaemonSet),
  history: (cluster, live) => controllerRevisionWorkloadHistory(cluster, 'DaemonSet', live as V1DaemonSet),
});

const BY_KIND: Record<WorkloadKind, WorkloadOps> = { Deployment: deploymentOps, StatefulSet: statefulSetOps, DaemonSet: daemonSetOps };

export function workloadOps(kind: WorkloadKind): WorkloadOps {
  return BY_KIND[kind];
}
