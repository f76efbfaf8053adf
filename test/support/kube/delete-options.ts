/** DELETE's options (query and DeleteOptions body): dryRun, propagationPolicy, preconditions. */
import { qualifiedName, type ResourceDef } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { Store } from './store.js';

export interface DeleteOptions {
  dryRun: boolean;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

const POLICIES = ['Orphan', 'Background', 'Foreground'];

/** Options from the query and the body (a DeleteOptions object, as kubectl and client-node send it). */
export function parseDeleteOptions(q: URLSearchParams, raw: string): DeleteOptions {
  let body: any = {};
  if (raw.trim()) {
    try {
      body = JSON.parse(raw);
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
  if (body?.dryRun !== undefined && body.dryRun !== null)
    checkDryRunValues('DELETE', Array.isArray(body.dryRun) ? body.dryRun : [body.dryRun]);
  const dryRun = q.getAll('dryRun').includes('All') || (Array.isArray(body?.dryRun) && body.dryRun.includes('All'));
  let policy: string | undefined = q.get('propagationPolicy') ?? body?.propagationPolicy ?? undefined;
  if (policy === undefined && (q.get('orphanDependents') === 'true' || body?.orphanDependents === true)) policy = 'Orphan';
  if (policy !== undefined && !POLICIES.includes(policy)) {
    throw new ApiError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  const pre = body?.preconditions;
  return {
    dryRun,
    ...(policy ? { propagationPolicy: policy as DeleteOptions['propagationPolicy'] } : {}),
    ...(pre && (pre.uid !== undefined || pre.resourceVersion !== undefined)
      ? { preconditions: { uid: pre.uid ?? undefined, resourceVersion: pre.resourceVersion ?? undefined } }
      : {}),
  };
}

/** 409 when the stored object does not match the preconditions (the storage layer's wording). */
export function checkPreconditions(res: ResourceDef, obj: any, pre: DeleteOptions['preconditions']): void {
  if (!pre) return;
  let msg: string | undefined;
  if (pre.uid !== undefined && pre.uid !== obj.metadata.uid)
    msg = `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`;
  else if (pre.resourceVersion !== undefined && pre.resourceVersion !== obj.metadata.resourceVersion) {
    msg = `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`;
  }
  if (!msg) return;
  const key = `/registry/${res.plural}/${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
  throw new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(res)} ${JSON.stringify(obj.metadata.name)}: StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: ${msg}`,
    { name: obj.metadata.name, ...(res.group ? { group: res.group } : {}), kind: res.plural },
  );
}

/** Orphaning: the garbage collector takes the owner's reference out of every dependent before the owner goes. */
export function orphanDependents(store: Store, owner: any): void {
  for (const { res, obj } of store.dependents(owner.metadata.uid)) {
    const refs = (obj.metadata.ownerReferences ?? []).filter((r: any) => r.uid !== owner.metadata.uid);
    const meta = { ...obj.metadata, ownerReferences: refs };
    if (refs.length === 0) delete meta.ownerReferences;
    store.update(res, { ...obj, metadata: meta });
  }
}

const OPTIONS_KIND: Record<string, string> = {
  POST: 'CreateOptions',
  PUT: 'UpdateOptions',
  PATCH: 'PatchOptions',
  DELETE: 'DeleteOptions',
};

/**
 * `dryRun` accepts only "All" (the apiserver's ValidateDryRun): anything else — "Foo", "true", an empty
 * value — is refused before the write with 422 Invalid on the request's options kind.
 */
export function checkDryRunValues(method: string, values: readonly unknown[]): void {
  const bad = values.filter((v) => v !== 'All');
  if (bad.length === 0) return;
  const kind = OPTIONS_KIND[method] ?? 'CreateOptions';
  const shown = `[]string{${values.map((v) => JSON.stringify(String(v))).join(', ')}}`;
  throw new ApiError(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: ${shown}: supported values: "All"`, {
    group: 'meta.k8s.io',
    kind,
    causes: [{ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${shown}: supported values: "All"` }],
  });
}
