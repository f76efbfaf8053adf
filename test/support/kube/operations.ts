/** Write operations as the apiserver performs them: defaulting, validation, status subresource rules, patches, apply. */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { applyDefaults, prepareForCreate, validate } from './defaults.js';
import { trackApply, trackUpdate, type ManagedEntry } from './managed-fields.js';
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMerge } from './patch.js';
import { mustResource, RESOURCES, type ResourceDef } from './resources.js';
import { handleUnknownFields, type FieldValidation } from './unknown-fields.js';
import { checkPreconditions, orphanDependents, type DeleteOptions } from './delete-options.js';
import { ensureDefaultServiceAccount, serviceAccountRefusal } from './service-accounts.js';
import { checkUpdate } from './strict.js';
import { checkDecodes } from './strict-decode.js';
import { prepareServiceUpdate } from './strict-service.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound, unsupportedMediaType } from './status.js';
import { nowTime, stableStringify, type Store } from './store.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** ?fieldValidation (default Warn); warnings for the response's Warning headers are appended to `warnings` */
  fieldValidation?: FieldValidation;
  warnings?: string[];
  fieldManager?: string;
  /** HTTP writes reset server-owned fields; direct test writes keep what they are given. */
  fromClient?: boolean;
}

const NAMESPACE = mustResource('v1', 'Namespace');

function checkNamespace(store: Store, res: ResourceDef, ns: string | undefined): void {
  if (!res.namespaced) return;
  if (!ns) throw badRequest('the server could not find the requested resource');
  if (!store.get(NAMESPACE, undefined, ns)) throw notFound(NAMESPACE, ns);
}

function checkTypeMeta(res: ResourceDef, obj: any): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(obj)}'`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== res.apiVersion) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${res.apiVersion})`);
  }
  if (obj.kind !== undefined && obj.kind !== res.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${res.kind})`);
  }
}

function checkBodyNamespace(res: ResourceDef, obj: any, ns: string | undefined): void {
  if (!res.namespaced) return;
  obj.metadata ??= {};
  if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (ns) obj.metadata.namespace = ns;
}

/** The managedFields a write starts from: the stored ones, unless the client sent different ones (which replace them). */
function baseManaged(prev: any, sent: unknown): any {
  if (sent === undefined || JSON.stringify(sent) === JSON.stringify(prev.metadata.managedFields)) return prev;
  return { ...prev, metadata: { ...prev.metadata, managedFields: sent } };
}

export function createObject(
  store: Store,
  res: ResourceDef,
  body: any,
  ns: string | undefined,
  opts: WriteOptions & { applied?: ManagedEntry[] } = {},
): any {
  checkTypeMeta(res, body);
  const obj = opts.fromClient ? body : structuredClone(body);
  checkBodyNamespace(res, obj, ns ?? obj.metadata?.namespace);
  if (opts.fromClient && !opts.applied) {
    handleUnknownFields(res, obj, opts.fieldValidation ?? 'Warn', 'decode', opts.warnings ?? []);
    checkDecodes(res, obj);
  }
  // admission names a pod by what was sent: its generateName when it has no name yet
  const sent = res.kind === 'Pod' && opts.fromClient ? { metadata: { ...obj.metadata } } : undefined;
  if (opts.fromClient) prepareForCreate(res, obj);
  applyDefaults(res, obj);
  // mutating admission runs before validation; a missing namespace is left to its own 404 below
  if (sent && store.get(NAMESPACE, undefined, obj.metadata.namespace)) {
    const refusal = serviceAccountRefusal(store, obj.metadata.namespace, { ...sent, spec: obj.spec });
    if (refusal) throw refusal;
  }
  validate(res, obj);
  if (opts.fromClient) checkNamespace(store, res, obj.metadata.namespace);
  if (opts.applied) obj.metadata.managedFields = opts.applied;
  else if (opts.fromClient) delete obj.metadata.managedFields;
  if (!opts.applied && opts.fieldManager) obj.metadata.managedFields = trackUpdate(res, undefined, obj, opts.fieldManager);
  if (opts.dryRun) {
    if (store.get(res, obj.metadata.namespace, obj.metadata.name)) throw alreadyExists(res, obj.metadata.name);
    // what create would have stored, minus a resourceVersion
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = nowTime();
    if (res.generation) obj.metadata.generation = 1;
    return { ...obj, apiVersion: res.apiVersion, kind: res.kind };
  }
  const created = store.create(res, obj);
  if (res.kind === 'Namespace') ensureDefaultServiceAccount(store, created.metadata.name);
  return created;
}

/**
 * PUT. With `subresource` 'status' only status changes are taken; on the main resource of a type
 * with a status subresource, status changes are ignored (unless `keepStatus` is false: direct test writes).
 */
export function replaceObject(
  store: Store,
  res: ResourceDef,
  ns: string | undefined,
  name: string,
  body: any,
  opts: WriteOptions & { subresource?: string } = {},
): any {
  checkTypeMeta(res, body);
  const obj = opts.fromClient ? body : structuredClone(body);
  checkBodyNamespace(res, obj, ns);
  obj.metadata ??= {};
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  obj.metadata.name = name;
  const prev = store.get(res, ns, name);
  if (!prev) throw notFound(res, name);
  let next = obj;
  if (opts.fromClient && res.hasStatus) {
    if (opts.subresource === 'status')
      next = { ...prev, metadata: { ...prev.metadata, resourceVersion: obj.metadata.resourceVersion }, status: obj.status };
    else next = { ...obj, status: prev.status };
  }
  const sentManaged = obj.metadata.managedFields;
  if (opts.fromClient) {
    handleUnknownFields(res, next, opts.fieldValidation ?? 'Warn', 'decode', opts.warnings ?? []);
    checkDecodes(res, next);
    // server-owned metadata is kept from the stored object
    next.metadata = { ...next.metadata };
    if (next.metadata.managedFields === undefined && prev.metadata.managedFields) next.metadata.managedFields = prev.metadata.managedFields;
    if (res.kind === 'Service') prepareServiceUpdate(prev, next);
  }
  applyDefaults(res, next);
  validate(res, next);
  if (opts.fromClient) checkUpdate(res, prev, next);
  if (opts.fieldManager)
    next.metadata.managedFields = trackUpdate(res, baseManaged(prev, sentManaged), next, opts.fieldManager, opts.subresource);
  if (opts.dryRun) return dryRunUpdate(res, prev, next);
  return store.update(res, next);
}

export function deleteObject(
  store: Store,
  res: ResourceDef,
  ns: string | undefined,
  name: string,
  opts: WriteOptions & Partial<Pick<DeleteOptions, 'propagationPolicy' | 'preconditions'>> = {},
): any {
  const prev = store.get(res, ns, name);
  if (!prev) throw notFound(res, name);
  checkPreconditions(res, prev, opts.preconditions);
  if (opts.dryRun) return prev;
  if (opts.propagationPolicy === 'Orphan') orphanDependents(store, prev);
  const deleted = store.delete(res, ns, name);
  if (res.kind === 'Namespace') {
    for (const r of RESOURCES) {
      if (!r.namespaced || r.virtual) continue;
      for (const o of store.list(r, name)) store.delete(r, name, o.metadata.name);
    }
  }
  return deleted;
}

export const PATCH_ACCEPTED = [
  PATCH_TYPES.json,
  PATCH_TYPES.merge,
  PATCH_TYPES.strategic,
  PATCH_TYPES.apply,
  'application/apply-patch+cbor',
];

function parsePatchBody(contentType: string, raw: string): any {
  try {
    if (contentType === PATCH_TYPES.apply) return parseYaml(raw);
    return JSON.parse(raw);
  } catch (err) {
    if (contentType === PATCH_TYPES.apply) throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

/** PATCH (all four patch types). Returns [object, created]. */
export function patchObject(
  store: Store,
  res: ResourceDef,
  ns: string | undefined,
  name: string,
  contentTypeRaw: string,
  raw: string,
  opts: WriteOptions & { subresource?: string; force?: boolean } = {},
): [any, boolean] {
  const contentType = contentTypeRaw.split(';')[0]!.trim().toLowerCase();
  if (!(Object.values(PATCH_TYPES) as string[]).includes(contentType)) throw unsupportedMediaType(PATCH_ACCEPTED);
  if (contentType === PATCH_TYPES.apply) {
    if (!opts.fieldManager) {
      throw invalid('PatchOptions.meta.k8s.io', '', 'meta.k8s.io', 'PatchOptions', [
        { reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' },
      ]);
    }
  } else if (opts.force !== undefined) {
    throw invalid('PatchOptions.meta.k8s.io', '', 'meta.k8s.io', 'PatchOptions', [
      { reason: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' },
    ]);
  }
  const patch = parsePatchBody(contentType, raw);
  const prev = store.get(res, ns, name);

  if (contentType === PATCH_TYPES.apply) {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('invalid object: expected a map');
    if (!patch.apiVersion || !patch.kind) {
      throw badRequest(`invalid object type: ${patch.apiVersion ?? ''}, Kind=${patch.kind ?? ''}`);
    }
    checkTypeMeta(res, patch);
    if (patch.metadata?.name !== undefined && patch.metadata.name !== name) {
      throw badRequest(`the name of the object (${patch.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (patch.metadata?.managedFields !== undefined) {
      throw badRequest('metadata.managedFields must be nil');
    }
    const applied = structuredClone(patch);
    applied.metadata = { ...(applied.metadata ?? {}), name };
    if (res.namespaced) {
      if (applied.metadata.namespace && applied.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      applied.metadata.namespace = ns;
    }
    if (opts.fromClient) handleUnknownFields(res, applied, opts.fieldValidation ?? 'Warn', 'apply', opts.warnings ?? []);
    if (!prev) {
      if (opts.subresource) throw notFound(res, name);
      const { managedFields } = trackApply(res, { metadata: {} }, applied, opts.fieldManager!, true, opts.subresource);
      checkDecodes(res, applied, { raw: patch, json: false });
      return [
        createObject(store, res, structuredClone(applied), ns, { fromClient: true, dryRun: opts.dryRun, applied: managedFields }),
        true,
      ];
    }
    const { base, managedFields } = trackApply(res, prev, applied, opts.fieldManager!, opts.force === true, opts.subresource);
    const { resourceVersion: appliedRv, ...appliedMeta } = applied.metadata;
    const merged = strategicMerge(base, { ...applied, metadata: appliedMeta });
    merged.metadata.resourceVersion = appliedRv ?? prev.metadata.resourceVersion;
    merged.metadata.managedFields = managedFields;
    return [finishPatch(store, res, prev, merged, { ...opts, decode: { raw: patch, json: false } }), false];
  }

  if (!prev) throw notFound(res, name);
  let next: any;
  if (contentType === PATCH_TYPES.json) next = jsonPatch(prev, patch);
  else {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw badRequest(
        `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`,
      );
    }
    next = contentType === PATCH_TYPES.merge ? mergePatch(prev, patch) : strategicMerge(prev, patch);
  }
  if (next === null || typeof next !== 'object') throw badRequest('patch produced an invalid object');
  // a patch without resourceVersion is unconditional; one with it is checked against the stored object
  const patchRv = patch?.metadata?.resourceVersion;
  next.metadata = { ...(next.metadata ?? {}) };
  next.metadata.resourceVersion = contentType !== PATCH_TYPES.json && patchRv !== undefined ? patchRv : prev.metadata.resourceVersion;
  if (next.metadata.name !== name) throw invalidNameChange(res, name);
  if (opts.fromClient) handleUnknownFields(res, next, opts.fieldValidation ?? 'Warn', 'patch', opts.warnings ?? []);
  const decode = { raw: patch, json: contentType !== PATCH_TYPES.strategic };
  return [finishPatch(store, res, prev, next, { ...opts, track: opts.fieldManager, decode }), false];
}

function invalidNameChange(res: ResourceDef, name: string): ApiError {
  return invalid(res.group ? `${res.kind}.${res.group}` : res.kind, name, res.group, res.kind, [
    { reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: field is immutable' },
  ]);
}

function finishPatch(
  store: Store,
  res: ResourceDef,
  prev: any,
  next: any,
  opts: WriteOptions & { subresource?: string; track?: string; decode?: { raw: unknown; json: boolean } },
): any {
  checkTypeMeta(res, next);
  if (opts.decode) checkDecodes(res, next, opts.decode);
  let obj = next;
  if (res.hasStatus) {
    if (opts.subresource === 'status')
      obj = {
        ...prev,
        metadata: { ...prev.metadata, resourceVersion: next.metadata.resourceVersion, managedFields: next.metadata.managedFields },
        status: next.status,
      };
    else obj = { ...next, status: prev.status };
  }
  obj.metadata.uid = prev.metadata.uid;
  obj.metadata.creationTimestamp = prev.metadata.creationTimestamp;
  if (res.namespaced) obj.metadata.namespace = prev.metadata.namespace;
  if (res.kind === 'Service') prepareServiceUpdate(prev, obj);
  applyDefaults(res, obj);
  validate(res, obj);
  checkUpdate(res, prev, obj);
  if (opts.track)
    obj.metadata.managedFields = trackUpdate(res, baseManaged(prev, next.metadata.managedFields), obj, opts.track, opts.subresource);
  if (opts.dryRun) return dryRunUpdate(res, prev, obj);
  return store.update(res, obj);
}

/** The object an update would store (generation bumped on spec changes, the resourceVersion checked), without storing it. */
function dryRunUpdate(res: ResourceDef, prev: any, next: any): any {
  const rv = next.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== prev.metadata.resourceVersion) throw conflict(res, prev.metadata.name);
  const out = {
    ...next,
    apiVersion: res.apiVersion,
    kind: res.kind,
    metadata: {
      ...next.metadata,
      uid: prev.metadata.uid,
      creationTimestamp: prev.metadata.creationTimestamp,
      resourceVersion: prev.metadata.resourceVersion,
    },
  };
  if (res.generation) {
    const g = prev.metadata.generation ?? 1;
    out.metadata.generation = stableStringify(prev.spec) === stableStringify(next.spec) ? g : g + 1;
  }
  return out;
}
