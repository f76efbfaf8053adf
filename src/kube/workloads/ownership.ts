/**
 * Who manages an object: the bot, Helm, Argo CD, Flux, or another field
 * manager. Pure: reads labels, annotations and `managedFields` of an object
 * already fetched. `deploy` refuses to write to what is not ours, and says who
 * it belongs to and how to adopt it instead.
 */
import type { V1ManagedFieldsEntry, V1ObjectMeta } from '@kubernetes/client-node';
import { FIELD_MANAGER, LABEL_MANAGED_BY } from '../render.js';

export interface KubeObject {
  kind?: string;
  metadata?: V1ObjectMeta;
}

export type Manager =
  | { kind: 'helm'; release: string; namespace?: string }
  | { kind: 'argocd'; application: string }
  | { kind: 'flux-kustomize'; name: string; namespace?: string }
  | { kind: 'flux-helm'; name: string; namespace?: string }
  | { kind: 'field-managers'; managers: string[] }
  | { kind: 'unknown' };

const ARGO_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const ARGO_INSTANCE = 'argocd.argoproj.io/instance';
const FLUX_KUSTOMIZE = 'kustomize.toolkit.fluxcd.io';
const FLUX_HELM = 'helm.toolkit.fluxcd.io';

/** Field managers of the GitOps controllers that revert a change at their next sync. */
export const GITOPS_MANAGERS = new Set([
  'argocd-controller',
  'argocd-application-controller',
  'argo-cd',
  'kustomize-controller',
  'helm-controller',
]);
/** Managers that are Kubernetes itself, not someone who owns the object. */
const SYSTEM_MANAGERS = new Set(['kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-apiserver']);

/** True when the bot created (rendered) this object: our managed-by label, or our field manager in `managedFields`. */
export function isOurs(obj: KubeObject): boolean {
  if (obj.metadata?.labels?.[LABEL_MANAGED_BY] === FIELD_MANAGER) return true;
  return (obj.metadata?.managedFields ?? []).some((m) => m.manager === FIELD_MANAGER);
}

/** A GitOps controller that tracks this object by its marks, if any (it reverts chat-made changes at its next sync). */
export function gitopsTracker(obj: KubeObject): Manager | undefined {
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  const tracking = annotations[ARGO_TRACKING_ID];
  if (tracking) return { kind: 'argocd', application: tracking.split(':')[0] ?? tracking };
  if (labels[ARGO_INSTANCE]) return { kind: 'argocd', application: labels[ARGO_INSTANCE] };
  const ks = labels[`${FLUX_KUSTOMIZE}/name`];
  if (ks)
    return {
      kind: 'flux-kustomize',
      name: ks,
      ...(labels[`${FLUX_KUSTOMIZE}/namespace`] ? { namespace: labels[`${FLUX_KUSTOMIZE}/namespace`] } : {}),
    };
  const hr = labels[`${FLUX_HELM}/name`];
  if (hr)
    return { kind: 'flux-helm', name: hr, ...(labels[`${FLUX_HELM}/namespace`] ? { namespace: labels[`${FLUX_HELM}/namespace`] } : {}) };
  return undefined;
}

/** Who manages an object that is not ours: Helm first (its marks are exact), then GitOps marks, then field managers. */
export function managerOf(obj: KubeObject): Manager {
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  const release = annotations['meta.helm.sh/release-name'];
  const gitops = gitopsTracker(obj);
  // A Helm chart synced by Argo CD or Flux: the GitOps controller is what reverts changes.
  if (gitops) return gitops;
  if (release || labels[LABEL_MANAGED_BY] === 'Helm') {
    return {
      kind: 'helm',
      release: release ?? labels['app.kubernetes.io/instance'] ?? '?',
      ...(annotations['meta.helm.sh/release-namespace'] ? { namespace: annotations['meta.helm.sh/release-namespace'] } : {}),
    };
  }
  const managers = [
    ...new Set((obj.metadata?.managedFields ?? []).map((m) => m.manager ?? '').filter((m) => m && !SYSTEM_MANAGERS.has(m))),
  ];
  return managers.length ? { kind: 'field-managers', managers } : { kind: 'unknown' };
}

/** "the Helm release `web` (namespace beta)", for a sentence; `esc` escapes names read from the cluster. */
export function describeManager(manager: Manager, esc: (text: string) => string = (t) => t): string {
  const m = JSON.parse(esc(JSON.stringify(manager))) as Manager;
  const ns = (n?: string) => (n ? ` (namespace ${n})` : '');
  switch (m.kind) {
    case 'helm':
      return `the Helm release \`${m.release}\`${ns(m.namespace)}`;
    case 'argocd':
      return `the Argo CD application \`${m.application}\``;
    case 'flux-kustomize':
      return `the Flux Kustomization \`${m.name}\`${ns(m.namespace)}`;
    case 'flux-helm':
      return `the Flux HelmRelease \`${m.name}\`${ns(m.namespace)}`;
    case 'field-managers':
      return `field manager${m.managers.length === 1 ? '' : 's'} ${m.managers.map((x) => `\`${x}\``).join(', ')} (e.g. \`kubectl\`)`;
    case 'unknown':
      return 'someone outside the bot (it carries no managed-by label of ours)';
  }
}

/** The `managedFields` path of one container's image, as the API server writes it. */
function ownsImage(entry: V1ManagedFieldsEntry, container: string, containersPath: string[]): boolean {
  let node = entry.fieldsV1 as Record<string, unknown> | undefined;
  for (const key of [...containersPath, `k:${JSON.stringify({ name: container })}`, 'f:image']) {
    if (!node || typeof node !== 'object' || !(key in node)) return false;
    node = node[key] as Record<string, unknown>;
  }
  return true;
}

const CONTAINERS_PATH = ['f:spec', 'f:template', 'f:spec', 'f:containers'];

/** The GitOps controller (by field manager) that owns one container's image of a workload, if any. */
export function gitopsImageOwner(obj: KubeObject, container: string): string | undefined {
  return (obj.metadata?.managedFields ?? []).find(
    (m) => m.manager && GITOPS_MANAGERS.has(m.manager) && ownsImage(m, container, CONTAINERS_PATH),
  )?.manager;
}

/** What a GitOps controller does to a chat-made change, for a refusal or a warning. */
export function gitopsWarning(who: string): string {
  return `${who} manages this workload and will put the image back at its next sync: change it in Git instead`;
}
