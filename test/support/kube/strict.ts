/**
 * The apiserver's refusals the emulator's other modules do not make: quantities that do not decode, requests above
 * limits, label/annotation keys that are not qualified names, DNS-1035 Service names and Service fields, and
 * fields that may not change on update (selectors, StatefulSet spec, Service clusterIPs).
 */
import type { ResourceDef } from './resources.js';
import { ApiError, invalidObject, type StatusCause } from './status.js';
import { stableStringify } from './store.js';

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

// ---------------------------------------------------------------- Services

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

function needsNodePorts(type: string | undefined): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

function serviceCauses(svc: any): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.type',
      message: `Unsupported value: ${JSON.stringify(type)}: supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
    });
  }
  const headless = spec.clusterIP === 'None';
  const ports: any[] = spec.ports ?? [];
  if (ports.length === 0 && !headless && type !== 'ExternalName')
    causes.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
  if (type === 'ExternalName' && !spec.externalName)
    causes.push({ reason: 'FieldValueRequired', field: 'spec.externalName', message: 'Required value' });
  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p?.name) causes.push({ reason: 'FieldValueRequired', field: `${f}.name`, message: 'Required value' });
    if (p?.name) {
      if (names.has(p.name))
        causes.push({ reason: 'FieldValueDuplicate', field: `${f}.name`, message: `Duplicate value: ${JSON.stringify(p.name)}` });
      names.add(p.name);
    }
    if (typeof p?.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${f}.port`,
        message: `Invalid value: ${JSON.stringify(p?.port ?? 0)}: must be between 1 and 65535, inclusive`,
      });
    }
    if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: `${f}.protocol`,
        message: `Unsupported value: ${JSON.stringify(p.protocol)}: supported values: "SCTP", "TCP", "UDP"`,
      });
    }
    const tp = p?.targetPort;
    if (typeof tp === 'number' && tp !== 0 && (!Number.isInteger(tp) || tp < 1 || tp > 65535)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${f}.targetPort`,
        message: `Invalid value: ${tp}: must be between 1 and 65535, inclusive`,
      });
    } else if (
      typeof tp === 'string' &&
      !/^[0-9]+$/.test(tp) &&
      !(tp.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tp) && /[a-z]/.test(tp) && !tp.includes('--'))
    ) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${f}.targetPort`,
        message: `Invalid value: ${JSON.stringify(tp)}: must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
      });
    }
    if (p?.nodePort !== undefined && p.nodePort !== 0) {
      if (!needsNodePorts(type)) {
        causes.push({
          reason: 'FieldValueForbidden',
          field: `${f}.nodePort`,
          message: `Forbidden: may not be used when \`type\` is '${type}'`,
        });
      } else if (typeof p.nodePort !== 'number' || p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: `${f}.nodePort`,
          message: `Invalid value: ${JSON.stringify(p.nodePort)}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
        });
      }
    }
  });
  if (
    spec.clusterIP !== undefined &&
    spec.clusterIP !== '' &&
    spec.clusterIP !== 'None' &&
    !/^(\d{1,3}\.){3}\d{1,3}$/.test(spec.clusterIP)
  ) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.clusterIPs[0]',
      message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
    });
  }
  if (type === 'ExternalName' && spec.clusterIP && spec.clusterIP !== '') {
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'spec.clusterIPs',
      message: 'Forbidden: may not be set for ExternalName services',
    });
  }
  return causes;
}

let nodePortCounter = NODE_PORT_MIN;

/** NodePort/LoadBalancer Services get a node port for every port that has none. */
export function allocateNodePorts(svc: any): void {
  if (!needsNodePorts(svc.spec?.type)) return;
  const used = new Set((svc.spec.ports ?? []).map((p: any) => p?.nodePort).filter(Boolean));
  for (const p of svc.spec.ports ?? []) {
    if (!p || p.nodePort) continue;
    while (used.has(nodePortCounter)) nodePortCounter++;
    p.nodePort = nodePortCounter++;
    if (nodePortCounter > NODE_PORT_MAX) nodePortCounter = NODE_PORT_MIN;
  }
  svc.spec.externalTrafficPolicy ??= 'Cluster';
  if (svc.spec.type === 'LoadBalancer') svc.spec.allocateLoadBalancerNodePorts ??= true;
}

/**
 * Service update preparation (the registry's patchAllocatedValues and dropTypeDependentFields): values the client
 * left out are kept, and node ports / cluster IPs the new type does not use are dropped when the client did not change them.
 */
export function prepareServiceUpdate(prev: any, next: any): void {
  const o = prev.spec ?? {};
  // patched objects share unpatched parts with the stored one: never mutate those
  const n = (next.spec = structuredClone(next.spec ?? {}));
  const oType = o.type ?? 'ClusterIP';
  const nType = n.type ?? 'ClusterIP';
  if (oType !== 'ExternalName' && nType !== 'ExternalName') {
    if (n.clusterIP === undefined || n.clusterIP === '') n.clusterIP = o.clusterIP;
    if (n.clusterIPs === undefined || n.clusterIPs.length === 0) n.clusterIPs = o.clusterIPs;
    else if (n.clusterIP !== undefined && stableStringify(n.clusterIPs) === stableStringify(o.clusterIPs) && n.clusterIP !== o.clusterIP) {
      n.clusterIPs = [n.clusterIP, ...n.clusterIPs.slice(1)];
    }
    if (n.clusterIP !== o.clusterIP && stableStringify(n.clusterIPs) === stableStringify(o.clusterIPs)) n.clusterIPs = [n.clusterIP];
  }
  if (needsNodePorts(oType) && needsNodePorts(nType)) {
    for (const p of n.ports ?? []) {
      if (!p || p.nodePort) continue;
      const old = (o.ports ?? []).find((q: any) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (old?.nodePort) p.nodePort = old.nodePort;
    }
  }
  if (!needsNodePorts(nType) && needsNodePorts(oType)) {
    for (const p of n.ports ?? []) {
      const old = (o.ports ?? []).find((q: any) => q.port === p?.port && (q.protocol ?? 'TCP') === (p?.protocol ?? 'TCP'));
      if (p && old && p.nodePort === old.nodePort) delete p.nodePort;
    }
    if (n.externalTrafficPolicy === o.externalTrafficPolicy) delete n.externalTrafficPolicy;
    if (n.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) delete n.allocateLoadBalancerNodePorts;
  }
  if (nType === 'ExternalName' && oType !== 'ExternalName') {
    if (n.clusterIP === o.clusterIP) delete n.clusterIP;
    if (stableStringify(n.clusterIPs) === stableStringify(o.clusterIPs)) delete n.clusterIPs;
    if (stableStringify(n.ipFamilies) === stableStringify(o.ipFamilies)) delete n.ipFamilies;
    if (n.ipFamilyPolicy === o.ipFamilyPolicy) delete n.ipFamilyPolicy;
  }
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
