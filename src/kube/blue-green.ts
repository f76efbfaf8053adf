/**
 * Blue/green on plain Deployments: the new version as its own Deployment
 * `<app>-<colour>` whose pods carry `color: blue|green`; the Service switches
 * to it in one selector patch once every pod is ready, and back the same way.
 */
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { listReplicaSetsOf } from './deployments.js';
import { fromKubeError, kubeStatusCode } from './errors.js';
import { write, type WriteOptions } from './dry-run.js';
import { ANNOTATION_RESTARTED_AT, FIELD_MANAGER, LABEL_MANAGED_BY } from './render.js';
import { deploymentOps } from './workloads/kinds.js';
import { carriedOverride, leftoverPatch } from './workloads/resource-override.js';
import { FIELD_MANAGER_SET_RESOURCES } from './workloads/set-resources.js';

export const LABEL_COLOR = 'color';
export type Color = 'blue' | 'green';
export const FIELD_MANAGER_SWITCH = 'k8s-chatops-switch';
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

export const colorName = (app: string, color: Color) => `${app}-${color}`;
export const otherColor = (color: string | undefined): Color => (color === 'green' ? 'blue' : 'green');

/**
 * The new colour's Deployment: the serving pod template with the new image and `color`, selector narrowed to the
 * colour; requests and limits set in chat on the serving one come along with their record (`carriedOverride`).
 */
export function colorDeployment(
  source: V1Deployment,
  input: { name: string; color: Color; container: string; image: string; replicas: number; annotations: Record<string, string> },
): V1Deployment {
  const template = structuredClone(source.spec?.template ?? {});
  const annotations = Object.fromEntries(
    Object.entries(template.metadata?.annotations ?? {}).filter(([k]) => k !== ANNOTATION_RESTARTED_AT),
  );
  const labels = Object.fromEntries(Object.entries(template.metadata?.labels ?? {}).filter(([k]) => k !== HASH_LABEL));
  template.metadata = { labels: { ...labels, [LABEL_COLOR]: input.color }, ...(Object.keys(annotations).length ? { annotations } : {}) };
  template.spec = {
    ...(template.spec ?? { containers: [] }),
    containers: (template.spec?.containers ?? []).map((c) => (c.name === input.container ? { ...c, image: input.image } : c)),
  };
  const selector = structuredClone(source.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [LABEL_COLOR]: input.color };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: input.name,
      namespace: source.metadata?.namespace ?? '',
      labels: { ...(source.metadata?.labels ?? {}), [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_COLOR]: input.color },
      annotations: { ...carriedOverride(source), ...input.annotations },
    },
    spec: {
      replicas: input.replicas,
      selector,
      ...(source.spec?.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: source.spec.progressDeadlineSeconds } : {}),
      ...(source.spec?.minReadySeconds !== undefined ? { minReadySeconds: source.spec.minReadySeconds } : {}),
      revisionHistoryLimit: 2,
      template,
    },
  };
}

/**
 * Applies a colour's Deployment (ours: forced). A colour used again may hold what a `resources` change set on it
 * while it served, which server-side apply leaves when the body lacks it (another field manager's): that is
 * removed first, in one patch, so the colour runs what serves now and carries only its record. `dropped`: what was.
 */
export async function applyColor(
  cluster: ClusterClient,
  body: V1Deployment,
  opts?: WriteOptions,
): Promise<{ applied: V1Deployment; dropped: string[] }> {
  const namespace = body.metadata?.namespace ?? '';
  const name = body.metadata?.name ?? '';
  const existing = await deploymentOps.readIfExists(cluster, namespace, name);
  const leftover = existing && leftoverPatch(existing, body);
  if (leftover) {
    await deploymentOps.patch(
      cluster,
      namespace,
      name,
      leftover.patch,
      PatchStrategy.StrategicMergePatch,
      FIELD_MANAGER_SET_RESOURCES,
      opts,
    );
  }
  const answer = (await deploymentOps.apply(cluster, body, true, opts)) as V1Deployment;
  if (!leftover) return { applied: answer, dropped: [] };
  // A dry run's apply answers from the live object, leftovers included: record what the two writes leave.
  const applied = opts?.dryRun ? leftover.without(answer) : answer;
  opts?.dryRun?.record({ kind: 'Deployment', name, namespace, before: existing, after: applied });
  return { applied, dropped: leftover.removed };
}

export async function readService(cluster: ClusterClient, namespace: string, name: string): Promise<V1Service> {
  try {
    return await cluster.core.readNamespacedService({ name, namespace });
  } catch (err) {
    throw fromKubeError(
      err,
      `service ${name} in namespace ${namespace}`,
      'blue/green switches the Service the app renders (`port` or `ports`)',
    );
  }
}

/**
 * The Service's whole selector replaced in one JSON patch, guarded by the selector it
 * replaces (a `test` op): a Service changed meanwhile is a refusal, not an overwrite.
 * `opts.dryRun`: the same patch as a recorded dry run.
 */
export async function switchSelector(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  from: Record<string, string>,
  to: Record<string, string>,
  opts?: WriteOptions,
): Promise<V1Service> {
  try {
    return await write(
      opts,
      { kind: 'Service', name, namespace },
      () => cluster.core.readNamespacedService({ name, namespace }),
      (dry) =>
        cluster.core.patchNamespacedService(
          {
            name,
            namespace,
            body: [
              { op: 'test', path: '/spec/selector', value: from },
              { op: 'replace', path: '/spec/selector', value: to },
            ],
            fieldManager: FIELD_MANAGER_SWITCH,
            ...dry,
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        ),
    );
  } catch (err) {
    throw fromKubeError(
      err,
      `service ${name} in namespace ${namespace}`,
      'its selector changed since the bot read it; look at it and try again',
    );
  }
}

/**
 * A selector for exactly the pods of a Deployment's current revision: its own
 * selector plus the `pod-template-hash` the Deployment gives that revision's pods
 * (what tells an uncoloured Deployment's pods from a colour's, which match its selector too).
 */
export async function revisionSelector(cluster: ClusterClient, deployment: V1Deployment): Promise<Record<string, string>> {
  const own = deployment.spec?.selector.matchLabels ?? {};
  if (own[LABEL_COLOR]) return own;
  const revision = deployment.metadata?.annotations?.[REVISION];
  const sets = await listReplicaSetsOf(cluster, deployment);
  const current = sets.find((rs) => rs.metadata?.annotations?.[REVISION] === revision) ?? sets[0];
  const hash = current?.metadata?.labels?.[HASH_LABEL];
  return hash ? { ...own, [HASH_LABEL]: hash } : own;
}

/** The colour the app's Service selects now, if it was switched blue/green; undefined when none or no Service. */
export async function serviceColor(cluster: ClusterClient, namespace: string, name: string): Promise<string | undefined> {
  try {
    return (await cluster.core.readNamespacedService({ name, namespace })).spec?.selector?.[LABEL_COLOR];
  } catch (err) {
    if (kubeStatusCode(err) === 404) return undefined;
    throw fromKubeError(err, `service ${name} in namespace ${namespace}`);
  }
}
