/** Decoding a body into the Go type: quantities that do not parse refuse the write (400, or 422 for a patch). */
import type { ResourceDef } from './resources.js';
import { ApiError } from './status.js';

const QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIXES: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** resource.ParseQuantity: the value, or the parser's error text. */
export function parseQuantity(q: unknown): number | string {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return QUANTITY_FORMAT;
  const m = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.exec(q);
  if (!m || !/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(m[1]!)) return QUANTITY_FORMAT;
  const n = Number(m[1]);
  const suffix = m[2]!;
  if (suffix in SUFFIXES) return n * SUFFIXES[suffix]!;
  const exp = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
  if (exp) return n * 10 ** Number(exp[1]);
  return "unable to parse quantity's suffix";
}

/** The first quantity (resources.requests/limits anywhere, emptyDir.sizeLimit) that does not parse, as the decoder reports it. */
function badQuantity(v: any): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const e = badQuantity(x);
      if (e) return e;
    }
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (
      (k === 'requests' || k === 'limits' || k === 'capacity' || k === 'allocatable' || k === 'hard') &&
      x &&
      typeof x === 'object' &&
      !Array.isArray(x)
    ) {
      for (const q of Object.values(x)) {
        const r = parseQuantity(q);
        if (typeof r === 'string') return r;
      }
    } else if (k === 'sizeLimit' && x !== undefined) {
      const r = parseQuantity(x);
      if (typeof r === 'string') return r;
    } else {
      const e = badQuantity(x);
      if (e) return e;
    }
  }
  return undefined;
}

/** Go's %+v of a decoded JSON value (how the patch handler quotes the patch in its error). */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (v !== null && typeof v === 'object') {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValue((v as any)[k])}`)
      .join(' ')}]`;
  }
  if (v === null) return '<nil>';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- only scalars are left here
  return String(v);
}

/**
 * Decoding the body into the Go type: a create/update body that does not decode is 400 BadRequest;
 * a patch whose result does not decode is 422 with the patch quoted.
 */
export function checkDecodes(res: ResourceDef, obj: any, patch?: { raw: unknown; json: boolean }): void {
  const err = badQuantity(obj);
  if (!err) return;
  if (!patch) throw new ApiError(400, 'BadRequest', `${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: ${err}`);
  const shown = patch.json ? JSON.stringify(obj) : goValue(patch.raw);
  throw new ApiError(422, 'Invalid', ` "" is invalid: patch: Invalid value: ${JSON.stringify(shown)}: ${err}`, {
    causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(shown)}: ${err}`, field: 'patch' }],
  });
}
