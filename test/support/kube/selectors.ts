/** Label and field selectors, in their query-string and LabelSelector-object forms. */
import { badRequest } from './status.js';

export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Selector = (labels: Record<string, string> | undefined) => boolean;

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` */
export function parseLabelSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  // split on commas that are not inside parentheses
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1]!, values });
    } else if ((m = p.match(/^([^\s!=(),]+)\s*!=\s*([^\s!=(),]*)$/))) {
      reqs.push({ op: 'neq', key: m[1]!, value: m[2]! });
    } else if ((m = p.match(/^([^\s!=(),]+)\s*==?\s*([^\s!=(),]*)$/))) {
      reqs.push({ op: 'eq', key: m[1]!, value: m[2]! });
    } else if ((m = p.match(/^!\s*([^\s!=(),]+)$/))) {
      reqs.push({ op: 'notexists', key: m[1]! });
    } else if ((m = p.match(/^([^\s!=(),]+)$/))) {
      reqs.push({ op: 'exists', key: m[1]! });
    } else {
      throw badRequest(`unable to parse requirement: found '${p}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return reqs;
}

export function matchRequirements(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  for (const r of reqs) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        if (v !== r.value) return false;
        break;
      case 'neq':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions) → requirements. Empty selector matches everything. */
export function labelSelectorObjectToRequirements(sel: any): Requirement[] {
  const reqs: Requirement[] = [];
  if (!sel) return reqs;
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) reqs.push({ op: 'eq', key: k, value: v });
  for (const e of (sel.matchExpressions ?? []) as any[]) {
    switch (e.operator) {
      case 'In':
        reqs.push({ op: 'in', key: e.key, values: e.values ?? [] });
        break;
      case 'NotIn':
        reqs.push({ op: 'notin', key: e.key, values: e.values ?? [] });
        break;
      case 'Exists':
        reqs.push({ op: 'exists', key: e.key });
        break;
      case 'DoesNotExist':
        reqs.push({ op: 'notexists', key: e.key });
        break;
    }
  }
  return reqs;
}

/** `app=web,tier in (a,b)` form of a LabelSelector object, as Scale.status.selector shows it. */
export function labelSelectorObjectToString(sel: any): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries((sel?.matchLabels ?? {}) as Record<string, string>)) parts.push(`${k}=${v}`);
  for (const e of (sel?.matchExpressions ?? []) as any[]) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export interface FieldRequirement {
  path: string[];
  value: string;
  negate: boolean;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  for (const raw of text.split(',')) {
    const p = raw.trim();
    if (!p) continue;
    const m = p.match(/^([^!=]+?)\s*(==|!=|=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${p}'`);
    reqs.push({ path: m[1]!.split('.'), value: m[3]!, negate: m[2] === '!=' });
  }
  return reqs;
}

function fieldValue(obj: any, path: string[]): string {
  let cur = obj;
  for (const seg of path) {
    if (cur === null || cur === undefined) return '';
    cur = cur[seg];
  }
  if (cur === null || cur === undefined) return '';
  return String(cur);
}

export function matchFields(reqs: FieldRequirement[], obj: any): boolean {
  for (const r of reqs) {
    const eq = fieldValue(obj, r.path) === r.value;
    if (eq === r.negate) return false;
  }
  return true;
}

/** One predicate for the labelSelector/fieldSelector query parameters (undefined = match all). */
export function makeObjectFilter(
  labelSelector: string | null | undefined,
  fieldSelector: string | null | undefined,
): ((obj: any) => boolean) | undefined {
  const lreqs = labelSelector ? parseLabelSelector(labelSelector) : [];
  const freqs = fieldSelector ? parseFieldSelector(fieldSelector) : [];
  if (lreqs.length === 0 && freqs.length === 0) return undefined;
  return (obj: any) => matchRequirements(lreqs, obj?.metadata?.labels) && matchFields(freqs, obj);
}
