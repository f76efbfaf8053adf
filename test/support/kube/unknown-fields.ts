/**
 * Fields the API types do not declare (client-node's generated models carry the schema): the apiserver drops them
 * with a warning (fieldValidation=Warn, the default), silently (Ignore), or refuses the request (Strict).
 */
import * as k8s from '@kubernetes/client-node';
import type { ResourceDef } from './resources.js';
import { ApiError, badRequest } from './status.js';

type Segment = string | number;
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Array<{ baseName: string; type: string }> } | undefined>;
const attrCache = new Map<string, Map<string, string> | undefined>();

function attributes(type: string): Map<string, string> | undefined {
  if (!attrCache.has(type)) {
    const list = models[type]?.getAttributeTypeMap?.();
    attrCache.set(type, list ? new Map(list.map((a) => [a.baseName, a.type])) : undefined);
  }
  return attrCache.get(type);
}

function modelOf(res: ResourceDef): string {
  return res.kind === 'Event' ? 'CoreV1Event' : `V1${res.kind}`;
}

function walk(v: unknown, type: string, path: Segment[], out: Segment[][]): void {
  if (v === null || v === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, arr[1]!, [...path, i], out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, map[1]!, [...path, k], out);
    return;
  }
  const attrs = attributes(type);
  if (!attrs || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, x] of Object.entries(v)) {
    const t = attrs.get(k);
    if (t === undefined) out.push([...path, k]);
    else walk(x, t, [...path, k], out);
  }
}

function show(path: Segment[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function remove(obj: any, path: Segment[]): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) cur = cur?.[p];
  if (cur && typeof cur === 'object') delete cur[path[path.length - 1] as string];
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '' || v === 'Warn') return 'Warn';
  if (v === 'Strict' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}`);
}

/**
 * Drop (or refuse, under Strict) the undeclared fields of `obj` (mutated). `how` picks the apiserver's wording:
 * the decoder's for create/update/patch, structured-merge-diff's for apply. Warnings are appended to `warnings`.
 */
export function handleUnknownFields(
  res: ResourceDef,
  obj: any,
  mode: FieldValidation,
  how: 'decode' | 'patch' | 'apply',
  warnings: string[],
): void {
  const found: Segment[][] = [];
  walk(obj, modelOf(res), [], found);
  const unknown = found.filter((p) => !(p.length === 1 && (p[0] === 'apiVersion' || p[0] === 'kind')));
  if (unknown.length === 0) return;
  if (mode === 'Strict') {
    if (how === 'apply') {
      const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
      const detail = unknown.map((p) => `.${show(p).replace(/\[(\d+)\]/g, '[$1]')}: field not declared in schema`).join('\n');
      throw badRequest(
        `failed to create typed patch object (${ns}${obj.metadata?.name ?? ''}; ${res.apiVersion}, Kind=${res.kind}): ${detail}`,
      );
    }
    const list = unknown.map((p) => `unknown field ${JSON.stringify(show(p))}`).join(', ');
    if (how === 'patch') throw new ApiError(400, 'BadRequest', `strict decoding error: ${list}`);
    throw badRequest(`${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: strict decoding error: ${list}`);
  }
  for (const p of unknown) {
    if (mode === 'Warn') warnings.push(`unknown field ${JSON.stringify(show(p))}`);
    remove(obj, p);
  }
}
