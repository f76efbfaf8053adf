/**
 * `kubectl set image` for one container of an adopted workload: a strategic
 * merge patch that names the container by its merge key and sets its image,
 * and nothing else of the spec. Pure.
 */
import type { V1Container } from '@kubernetes/client-node';
import { ANNOTATION_RESTARTED_AT } from '../render.js';
import type { AnyWorkload } from './types.js';

/** Our field manager for image changes of adopted workloads (not `k8s-chatops`: that one marks objects the bot rendered). */
export const FIELD_MANAGER_SET_IMAGE = 'k8s-chatops-set-image';

export function containersOf(obj: AnyWorkload): V1Container[] {
  return obj.spec?.template.spec?.containers ?? [];
}

export function findContainer(obj: AnyWorkload, name: string): V1Container | undefined {
  return containersOf(obj).find((c) => c.name === name);
}

/**
 * The patch: the container's image; the workload's own annotations of ours
 * (who deployed, request id); and, when the tag is unchanged, kubectl's
 * restart annotation so the pods pull the image again.
 */
export function setImagePatch(container: string, image: string, annotations: Record<string, string>, restartedAt?: string): object {
  return {
    metadata: { annotations },
    spec: {
      template: {
        ...(restartedAt ? { metadata: { annotations: { [ANNOTATION_RESTARTED_AT]: restartedAt } } } : {}),
        spec: { containers: [{ name: container, image }] },
      },
    },
  };
}
