/**
 * metadata.managedFields as the apiserver keeps them (structured-merge-diff, simplified): each manager owns a set of
 * field paths (fieldsV1). Update operations (PUT/PATCH/POST) take the fields they changed from everyone else; Apply
 * owns exactly the applied fields, drops the ones it no longer applies (unless someone else owns them), and
 * conflicts (409) with another manager owning an applied field at a different value, unless forced.
 */
import type { ResourceDef } from './resources.js';
import { ApiError } from './status.js';
import { nowTime, stableStringify } from './store.js';

const SEP = '\u0001';
/** the path of a list item itself (fieldsV1's ".") */
const SELF = '.';

function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Associative lists of the built-in types and their keys (the openapi x-kubernetes-list-map-keys). */
function listKeys(field: string, items: any[]): string[] | 'set' | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'readinessGates':
      return field === 'readinessGates' ? ['conditionType'] : ['name'];
    case 'volumeMounts':
      return ['mountPath'];
    case 'volumeDevices':
      return ['devicePath'];
    case 'conditions':
      return ['type'];
    case 'ownerReferences':
      return ['uid'];
    case 'hostAliases':
      return ['ip'];
    case 'topologySpreadConstraints':
      return ['topologyKey', 'whenUnsatisfiable'];
    case 'ports':
      return items.some((i) => isObj(i) && 'containerPort' in i) ? ['containerPort', 'protocol'] : ['port', 'protocol'];
    case 'finalizers':
      return 'set';
    default:
      return undefined;
  }
}

const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

function keyOf(item: any, keys: string[]): Record<string, unknown> {
  const k: Record<string, unknown> = {};
  for (const name of keys) k[name] = item?.[name] ?? KEY_DEFAULTS[name];
  return k;
}

function itemMatches(item: any, key: Record<string, unknown>): boolean {
  return isObj(item) && Object.entries(key).every(([k, v]) => (item[k] ?? KEY_DEFAULTS[k]) === v);
}

const META_SKIP = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** Paths (SEP-joined fieldsV1 elements) of every field set in `obj`. `part` limits to the main resource or status. */
export function fieldPaths(obj: any, part: 'main' | 'status' | 'all' = 'all'): Set<string> {
  const out = new Set<string>();
  if (!isObj(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (part === 'main' && k === 'status') continue;
    if (part === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObj(v)) {
      const rest = Object.fromEntries(Object.entries(v).filter(([mk]) => !META_SKIP.has(mk)));
      walk(rest, 'metadata', ['f:metadata'], out);
      continue;
    }
    walk(v, k, [`f:${k}`], out);
  }
  return out;
}

function walk(v: any, field: string, path: string[], out: Set<string>): void {
  if (v === undefined || v === null) return;
  if (isObj(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined && x !== null);
    if (entries.length === 0) {
      if (path.length > 1 || field !== 'metadata') out.add(path.join(SEP));
      return;
    }
    for (const [k, x] of entries) walk(x, k, [...path, `f:${k}`], out);
    return;
  }
  if (Array.isArray(v)) {
    const keys = listKeys(field, v);
    if (keys === 'set' && v.every((i) => !isObj(i))) {
      for (const i of v) out.add([...path, `v:${JSON.stringify(i)}`].join(SEP));
      return;
    }
    if (Array.isArray(keys) && v.every(isObj)) {
      for (const item of v) {
        const p = [...path, `k:${JSON.stringify(keyOf(item, keys))}`];
        out.add([...p, SELF].join(SEP));
        for (const [k, x] of Object.entries(item)) walk(x, k, [...p, `f:${k}`], out);
      }
      return;
    }
  }
  // scalars and atomic lists are leaves
  out.add(path.join(SEP));
}

/** fieldsV1 tree → path set */
export function pathsOf(fieldsV1: any, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (!isObj(fieldsV1)) return out;
  for (const [k, sub] of Object.entries(fieldsV1)) {
    if (k === SELF) out.add([...prefix, SELF].join(SEP));
    else if (!isObj(sub) || Object.keys(sub).length === 0) out.add([...prefix, k].join(SEP));
    else pathsOf(sub, [...prefix, k], out);
  }
  return out;
}

/** path set → fieldsV1 tree */
export function treeOf(paths: Set<string>): any {
  const root: Record<string, any> = {};
  for (const p of [...paths].sort()) {
    let node = root;
    for (const el of p.split(SEP)) node = node[el] ??= {};
  }
  return root;
}

function elements(path: string): string[] {
  return path.split(SEP);
}

/** The value at a path (undefined when absent); a list item's own path gives the item. */
export function valueAt(obj: any, path: string): unknown {
  let cur = obj;
  for (const el of elements(path)) {
    if (el === SELF) return cur;
    if (cur === undefined || cur === null) return undefined;
    if (el.startsWith('f:')) cur = isObj(cur) ? cur[el.slice(2)] : undefined;
    else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      cur = Array.isArray(cur) ? cur.find((i) => itemMatches(i, key)) : undefined;
    } else if (el.startsWith('v:')) {
      const v = JSON.parse(el.slice(2));
      cur = Array.isArray(cur) && cur.includes(v) ? v : undefined;
    } else if (el.startsWith('i:')) cur = Array.isArray(cur) ? cur[Number(el.slice(2))] : undefined;
    else return undefined;
  }
  return cur;
}

/** Remove the field at a path from obj (mutates). */
function removeAt(obj: any, path: string): void {
  const els = elements(path);
  const last = els[els.length - 1] === SELF ? els.length - 1 : els.length;
  let parent = obj;
  for (let i = 0; i < last - 1; i++) {
    parent = valueAt(parent, els[i]!);
    if (parent === undefined || parent === null) return;
  }
  const el = els[last - 1]!;
  if (el.startsWith('f:') && isObj(parent)) delete parent[el.slice(2)];
  else if (Array.isArray(parent)) {
    const idx = el.startsWith('k:')
      ? parent.findIndex((i) => itemMatches(i, JSON.parse(el.slice(2))))
      : el.startsWith('v:')
        ? parent.indexOf(JSON.parse(el.slice(2)))
        : -1;
    if (idx >= 0) parent.splice(idx, 1);
  }
}

/** `.spec.template.spec.containers[name="web"].image`, as structured-merge-diff prints a path. */
export function printPath(path: string): string {
  let s = '';
  for (const el of elements(path)) {
    if (el === SELF) continue;
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      s += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
    else if (el.startsWith('i:')) s += `[${el.slice(2)}]`;
  }
  return s;
}

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: any;
  subresource?: string;
}

function sameOwner(m: any, manager: string, operation: string, subresource: string | undefined): boolean {
  return m.manager === manager && m.operation === operation && (m.subresource ?? '') === (subresource ?? '');
}

function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, paths: Set<string>, subresource?: string): ManagedEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: nowTime(),
    fieldsType: 'FieldsV1',
    fieldsV1: treeOf(paths),
    ...(subresource ? { subresource } : {}),
  };
}

function partFor(res: ResourceDef, subresource: string | undefined): 'main' | 'status' | 'all' {
  if (subresource === 'status') return 'status';
  return res.hasStatus ? 'main' : 'all';
}

/** managedFields after an Update by `manager` that turned `prev` (undefined on create) into `next`. */
export function trackUpdate(
  res: ResourceDef,
  prev: any,
  next: any,
  manager: string,
  subresource?: string,
  apiVersion = res.apiVersion,
): ManagedEntry[] {
  const part = partFor(res, subresource);
  const before = prev ? fieldPaths(prev, part) : new Set<string>();
  const after = fieldPaths(next, part);
  const changed = new Set<string>();
  for (const p of after) if (!before.has(p) || stableStringify(valueAt(prev, p)) !== stableStringify(valueAt(next, p))) changed.add(p);
  const removed = new Set<string>([...before].filter((p) => !after.has(p)));
  const list: ManagedEntry[] = [];
  let mine: Set<string> | undefined;
  for (const m of (prev?.metadata?.managedFields ?? []) as ManagedEntry[]) {
    const paths = pathsOf(m.fieldsV1);
    if (sameOwner(m, manager, 'Update', subresource)) {
      mine = paths;
      continue;
    }
    const kept = new Set([...paths].filter((p) => !changed.has(p) && !removed.has(p)));
    if (kept.size) list.push(kept.size === paths.size ? m : { ...m, fieldsV1: treeOf(kept) });
  }
  const own = new Set([...(mine ?? []), ...changed].filter((p) => !removed.has(p)));
  if (own.size) list.push(entry(manager, 'Update', apiVersion, own, subresource));
  return list;
}

function printManager(m: ManagedEntry): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update' && m.time) return `${s} using ${m.apiVersion} at ${m.time}`;
  return `${s} using ${m.apiVersion}`;
}

function conflictError(conflicts: Array<{ m: ManagedEntry; path: string }>): ApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.m)}`,
    field: printPath(c.path),
  }));
  let message: string;
  if (conflicts.length === 1)
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.m)}: ${printPath(conflicts[0]!.path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(printManager(c.m), [...(byManager.get(printManager(c.m)) ?? []), printPath(c.path)]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * Server-side apply of `applied` by `manager` onto `live`: checks conflicts (409 unless forced), removes the fields
 * this manager applied before and no longer applies (when nobody else owns them). Returns the pruned base object to
 * merge the applied configuration into, and the managedFields the result carries.
 */
export function trackApply(
  res: ResourceDef,
  live: any,
  applied: any,
  manager: string,
  force: boolean,
  subresource?: string,
): { base: any; managedFields: ManagedEntry[] } {
  const part = partFor(res, subresource);
  const want = fieldPaths(applied, part);
  const entries = (live.metadata?.managedFields ?? []) as ManagedEntry[];
  const conflicts: Array<{ m: ManagedEntry; path: string }> = [];
  const others: Array<{ m: ManagedEntry; paths: Set<string> }> = [];
  let former = new Set<string>();
  for (const m of entries) {
    const paths = pathsOf(m.fieldsV1);
    if (sameOwner(m, manager, 'Apply', subresource)) {
      former = paths;
      continue;
    }
    others.push({ m, paths });
    for (const p of paths) {
      if (!want.has(p) || p.endsWith(SELF)) continue;
      if (stableStringify(valueAt(live, p)) !== stableStringify(valueAt(applied, p))) conflicts.push({ m, path: p });
    }
  }
  if (conflicts.length && !force) {
    const allowed = allowedFromLastApplied(live, manager, part);
    const left = conflicts.filter((c) => !allowed.has(c.path));
    if (left.length) throw conflictError(left);
  }
  const lost = new Set(conflicts.map((c) => `${c.m.manager}|${c.m.operation}|${c.m.subresource ?? ''}|${c.path}`));
  const list: ManagedEntry[] = [];
  const ownedByOthers = new Set<string>();
  for (const { m, paths } of others) {
    const kept = new Set([...paths].filter((p) => !lost.has(`${m.manager}|${m.operation}|${m.subresource ?? ''}|${p}`)));
    for (const p of kept) ownedByOthers.add(p);
    if (kept.size) list.push(kept.size === paths.size ? m : { ...m, fieldsV1: treeOf(kept) });
  }
  const base = structuredClone(live);
  const keep = [...ownedByOthers, ...want];
  const drop = [...former].filter((p) => !want.has(p) && !ownedByOthers.has(p));
  // a list item nobody owns anything under goes as a whole; other fields one by one
  const items = drop
    .filter((p) => p.endsWith(SELF))
    .map((p) => p.slice(0, -SELF.length))
    .filter((prefix) => !keep.some((q) => q.startsWith(prefix)));
  for (const p of drop) {
    if (p.endsWith(SELF) || items.some((prefix) => p.startsWith(prefix))) continue;
    removeAt(base, p);
  }
  for (const prefix of items.sort((a, b) => b.length - a.length)) removeAt(base, `${prefix}${SELF}`);
  list.push(entry(manager, 'Apply', applied.apiVersion ?? res.apiVersion, want, subresource));
  return { base, managedFields: list };
}

/**
 * The apiserver's lastAppliedManager: `kubectl apply --server-side` (manager "kubectl") may take over the fields a
 * client-side apply recorded in last-applied-configuration, where the live value still matches it.
 */
function allowedFromLastApplied(live: any, manager: string, part: 'main' | 'status' | 'all'): Set<string> {
  const text = live.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (manager !== 'kubectl' || typeof text !== 'string') return new Set();
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const p of fieldPaths(last, part)) if (stableStringify(valueAt(last, p)) === stableStringify(valueAt(live, p))) out.add(p);
  return out;
}
