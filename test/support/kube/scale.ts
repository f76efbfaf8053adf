/** The /scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets and StatefulSets. */
import { trackUpdate } from './managed-fields.js';
import { patchObject } from './operations.js';
import type { ResourceDef } from './resources.js';
import { labelSelectorObjectToString } from './selectors.js';
import { ApiError, notFound } from './status.js';
import { Store } from './store.js';

const SCALE_RES: ResourceDef = {
  group: 'autoscaling',
  version: 'v1',
  apiVersion: 'autoscaling/v1',
  kind: 'Scale',
  listKind: 'ScaleList',
  plural: 'scale',
  singular: 'scale',
  namespaced: true,
  verbs: [],
  subresources: [],
  hasStatus: false,
  generation: false,
};

export function toScale(obj: any): object {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: labelSelectorObjectToString(obj.spec?.selector) },
  };
}

/** Set spec.replicas through /scale: the writer owns spec.replicas (an Update entry with subresource "scale"). */
export function setScale(
  store: Store,
  r: ResourceDef,
  ns: string | undefined,
  name: string,
  replicas: unknown,
  rv: string | undefined,
  dryRun: boolean,
  manager: string,
): any {
  const obj = store.get(r, ns, name);
  if (!obj) throw notFound(r, name);
  if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
    throw new ApiError(
      422,
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      {
        name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
            field: 'spec.replicas',
          },
        ],
      },
    );
  }
  const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: rv }, spec: { ...obj.spec, replicas } };
  next.metadata.managedFields = trackUpdate(r, obj, next, manager, 'scale');
  if (dryRun) return next;
  return store.update(r, next);
}

/** PATCH of /scale (any patch type): patch the Scale object, then carry spec.replicas over. */
export function patchScale(
  store: Store,
  r: ResourceDef,
  ns: string | undefined,
  name: string,
  contentType: string,
  raw: string,
  opts: { force?: boolean; fieldManager?: string; manager: string; dryRun: boolean },
): any {
  const obj = store.get(r, ns, name);
  if (!obj) throw notFound(r, name);
  const tmp = new Store(1);
  tmp.create(SCALE_RES, structuredClone(toScale(obj)));
  const [patched] = patchObject(tmp, SCALE_RES, ns, name, contentType, raw, {
    fromClient: true,
    force: opts.force,
    fieldManager: opts.fieldManager ?? 'scale',
  });
  return setScale(store, r, ns, name, patched.spec?.replicas, undefined, opts.dryRun, opts.manager);
}
