/** JSON merge patch (RFC 7386), strategic merge patch (also the server-side-apply merge), JSON patch (RFC 6902). */
import { ApiError, badRequest } from './status.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** RFC 7386 */
export function mergePatch(target: any, patch: any): any {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, any> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of the built-in types' list fields, by field name (context-free approximation of the Go struct tags). */
const MERGE_KEYS: Record<string, string | ((items: any[]) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  ports: (items) => (items.some((i) => isObj(i) && 'containerPort' in i) ? 'containerPort' : 'port'),
};
/** Lists of primitives merged as sets. */
const PRIMITIVE_MERGE = new Set(['finalizers']);
/** Lists replaced wholesale even when their items have a `name`. */
const ATOMIC = new Set(['tolerations', 'envFrom', 'args', 'command', 'items', 'subjects', 'rules']);

function mergeKeyFor(field: string, a: any[], b: any[]): string | undefined {
  if (ATOMIC.has(field)) return undefined;
  const mk = MERGE_KEYS[field];
  if (typeof mk === 'string') return mk;
  if (typeof mk === 'function') return mk([...a, ...b]);
  const all = [...a, ...b];
  if (all.length > 0 && all.every((i) => isObj(i) && typeof i.name === 'string')) return 'name';
  return undefined;
}

/** Strategic merge patch of `patch` onto `target` (neither is mutated). */
export function strategicMerge(target: any, patch: any): any {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  const out: Record<string, any> = isObj(target) ? { ...target } : {};
  let retainKeys: string[] | undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k === '$retainKeys') {
      retainKeys = v as string[];
      continue;
    }
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = out[f].filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(k, Array.isArray(out[k]) ? out[k] : [], v);
      continue;
    }
    if (isObj(v)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  if (retainKeys) for (const k of Object.keys(out)) if (!retainKeys.includes(k) && !(k in patch)) delete out[k];
  return out;
}

function mergeList(field: string, target: any[], patch: any[]): any[] {
  if (patch.some((i) => isObj(i) && i.$patch === 'replace')) {
    return patch.filter((i) => !(isObj(i) && i.$patch === 'replace')).map(stripDirectives);
  }
  if (PRIMITIVE_MERGE.has(field) && patch.every((i) => !isObj(i))) {
    const out = [...target];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, target, patch);
  if (!key) return patch.filter((i) => !(isObj(i) && i.$patch === 'delete')).map(stripDirectives);
  const out = [...target];
  for (const item of patch) {
    if (!isObj(item)) continue;
    const idx = out.findIndex((t) => isObj(t) && t[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

// ---------------------------------------------------------------- JSON patch (RFC 6902)

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw unprocessable(`invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function unprocessable(msg: string): ApiError {
  return new ApiError(422, 'Invalid', msg);
}

function resolveParent(doc: any, path: string[], op: string, raw: string): { parent: any; key: string } {
  let cur = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    cur = Array.isArray(cur) ? cur[Number(seg)] : isObj(cur) ? cur[seg] : undefined;
    if (cur === undefined || cur === null || typeof cur !== 'object') {
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${raw}": missing value`);
    }
  }
  return { parent: cur, key: path[path.length - 1]! };
}

function getAt(doc: any, path: string[]): any {
  let cur = doc;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(seg)] : cur[seg];
  }
  return cur;
}

function deepEqual(a: any, b: any): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObj(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

export function jsonPatch(target: any, ops: unknown): any {
  if (!Array.isArray(ops)) {
    throw badRequest('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
  }
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObj(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw badRequest('json: cannot unmarshal into Go value of type handlers.jsonPatchOp: missing op or path');
    }
    const path = parsePointer(op.path);
    const remove = (p: string[], raw: string, opName: string): any => {
      if (p.length === 0) throw unprocessable(`${opName} operation does not apply: cannot remove the document root`);
      const { parent, key } = resolveParent(doc, p, opName, raw);
      if (Array.isArray(parent)) {
        const i = Number(key);
        if (!Number.isInteger(i) || i < 0 || i >= parent.length)
          throw unprocessable(`${opName} operation does not apply: doc is missing path: "${raw}": missing value`);
        return parent.splice(i, 1)[0];
      }
      if (!(key in parent)) throw unprocessable(`${opName} operation does not apply: doc is missing path: "${raw}": missing value`);
      const v = parent[key];
      delete parent[key];
      return v;
    };
    const add = (p: string[], raw: string, value: any, replace: boolean): void => {
      if (p.length === 0) {
        doc = value;
        return;
      }
      const { parent, key } = resolveParent(doc, p, replace ? 'replace' : 'add', raw);
      if (Array.isArray(parent)) {
        if (key === '-' && !replace) parent.push(value);
        else {
          const i = Number(key);
          if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i === parent.length)) {
            throw unprocessable(`${replace ? 'replace' : 'add'} operation does not apply: doc is missing path: "${raw}": missing value`);
          }
          if (replace) parent[i] = value;
          else parent.splice(i, 0, value);
        }
      } else {
        if (replace && !(key in parent)) throw unprocessable(`replace operation does not apply: doc is missing key: ${raw}: missing value`);
        parent[key] = value;
      }
    };
    switch (op.op) {
      case 'add':
        add(path, op.path, structuredClone(op.value), false);
        break;
      case 'replace':
        add(path, op.path, structuredClone(op.value), true);
        break;
      case 'remove':
        remove(path, op.path, 'remove');
        break;
      case 'move': {
        const from = parsePointer(String(op.from ?? ''));
        const v = remove(from, String(op.from), 'move');
        add(path, op.path, v, false);
        break;
      }
      case 'copy': {
        const v = getAt(doc, parsePointer(String(op.from ?? '')));
        if (v === undefined) throw unprocessable(`copy operation does not apply: doc is missing from path: ${op.from}: missing value`);
        add(path, op.path, structuredClone(v), false);
        break;
      }
      case 'test': {
        const v = getAt(doc, path);
        if (!deepEqual(v, op.value)) throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
