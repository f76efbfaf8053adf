/**
 * The apiserver's refusals the emulator's other modules do not make (with strict-decode and strict-service): requests above
 * limits, label/annotation keys that are not qualified names, DNS-1035 Service names and Service fields, and
 * fields that may not change on update (selectors, StatefulSet spec, Service clusterIPs).
 */
import type { ResourceDef } from './resources.js';
import { invalidObject, type StatusCause } from './status.js';
import { stableStringify } from './store.js';
import { parseQuantity } from './strict-decode.js';
import { serviceCauses } from './strict-service.js';

// ---------------------------------------------------------------- names

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** validation.IsQualifiedName */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) errs.push(`prefix part ${SUBDOMAIN_MSG}`);
  } else {
    return [`a qualified name ${QUALIFIED_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED.test(name)) errs.push(`name part ${QUALIFIED_MSG}`);
  return errs;
}

function metaKeyCauses(meta: any, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const k of Object.keys(meta?.labels ?? {})) {
    for (const msg of qualifiedNameErrors(k))
      causes.push({ reason: 'FieldValueInvalid', field: `${path}.labels`, message: `Invalid value: ${JSON.stringify(k)}: ${msg}` });
  }
  for (const k of Object.keys(meta?.annotations ?? {})) {
    for (const msg of qualifiedNameErrors(k.toLowerCase()))
      causes.push({ reason: 'FieldValueInvalid', field: `${path}.annotations`, message: `Invalid value: ${JSON.stringify(k)}: ${msg}` });
  }
  return causes;
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

// ---------------------------------------------------------------- pod specs

function podSpecCauses(spec: any, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    (spec?.[list] ?? []).forEach((c: any, i: number) => {
      const req = c?.resources?.requests ?? {};
      const lim = c?.resources?.limits ?? {};
      for (const [name, q] of Object.entries(req)) {
        if (lim[name] === undefined) continue;
        const a = parseQuantity(q);
        const b = parseQuantity(lim[name]);
        if (typeof a === 'number' && typeof b === 'number' && a > b) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: `${path}.${list}[${i}].resources.requests`,
            message: `Invalid value: ${JSON.stringify(String(q))}: must be less than or equal to ${name} limit of ${String(lim[name])}`,
          });
        }
      }
    });
  }
  return causes;
}

// ---------------------------------------------------------------- create and update

/** Extra validation of every write. */
export function strictCauses(res: ResourceDef, obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  causes.push(...metaKeyCauses(obj.metadata, 'metadata'));
  const spec = obj.spec ?? {};
  if (res.kind === 'Service') {
    const name: string = obj.metadata?.name ?? '';
    if (name.length > 63)
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(name)}: must be no more than 63 characters`,
      });
    else if (name && !DNS1035.test(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(name)}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      });
    }
    causes.push(...serviceCauses(obj));
  }
  if (res.kind === 'Pod') causes.push(...podSpecCauses(spec, 'spec'));
  if (
    spec.template &&
    typeof spec.template === 'object' &&
    ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'].includes(res.kind)
  ) {
    causes.push(...metaKeyCauses(spec.template.metadata, 'spec.template.metadata'));
    causes.push(...podSpecCauses(spec.template.spec, 'spec.template.spec'));
  }
  return causes;
}

/** %#v of a metav1.LabelSelector, as ValidateImmutableField prints it. */
function goSelector(sel: any): string {
  const labels = Object.keys(sel?.matchLabels ?? {}).sort();
  const ml = sel?.matchLabels
    ? `map[string]string{${labels.map((k) => `${JSON.stringify(k)}:${JSON.stringify(sel.matchLabels[k])}`).join(', ')}}`
    : 'map[string]string(nil)';
  const exprs: any[] | undefined = sel?.matchExpressions;
  const me = exprs
    ? `[]v1.LabelSelectorRequirement{${exprs
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key ?? '')}, Operator:${JSON.stringify(e.operator ?? '')}, Values:${e.values ? `[]string{${e.values.map((v: string) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

/** Semantic equality: nil and empty maps/lists are the same. */
function semantic(v: unknown): string {
  const strip = (x: any): any => {
    if (Array.isArray(x)) return x.length ? x.map(strip) : undefined;
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) {
        const s = strip(y);
        if (s !== undefined) o[k] = s;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return x;
  };
  return stableStringify(strip(v) ?? null);
}

const STS_MUTABLE = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'revisionHistoryLimit',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

/** Refusals of an update given the stored object (422 Invalid). */
export function checkUpdate(res: ResourceDef, prev: any, next: any): void {
  const causes: StatusCause[] = [];
  if (['Deployment', 'ReplicaSet', 'DaemonSet'].includes(res.kind) && semantic(prev.spec?.selector) !== semantic(next.spec?.selector)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.selector',
      message: `Invalid value: ${goSelector(next.spec?.selector)}: field is immutable`,
    });
  }
  if (res.kind === 'StatefulSet') {
    const rest = (s: any): string => semantic(Object.fromEntries(Object.entries(s ?? {}).filter(([k]) => !STS_MUTABLE.has(k))));
    if (rest(prev.spec) !== rest(next.spec)) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec',
        message:
          "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      });
    }
  }
  if (res.kind === 'Service') {
    const o: string[] = prev.spec?.clusterIPs ?? [];
    const n: string[] = next.spec?.clusterIPs ?? [];
    const external = prev.spec?.type === 'ExternalName' || next.spec?.type === 'ExternalName';
    if (!external && o.length && n.length === o.length) {
      o.forEach((ip, i) => {
        if (n[i] !== ip)
          causes.push({
            reason: 'FieldValueInvalid',
            field: `spec.clusterIPs[${i}]`,
            message: `Invalid value: []string{${n.map((x) => JSON.stringify(x)).join(', ')}}: may not change once set`,
          });
      });
    }
  }
  if (res.kind === 'PersistentVolumeClaim') {
    const { resources: _r, volumeAttributesClassName: _v, ...a } = prev.spec ?? {};
    const { resources: _r2, volumeAttributesClassName: _v2, ...b } = next.spec ?? {};
    if (semantic(a) !== semantic(b)) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec',
        message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      });
    }
  }
  if (causes.length) throw invalidObject(res, next.metadata?.name ?? '', causes);
}
