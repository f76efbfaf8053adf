/** Defaulting and validation the apiserver does on writes (the subset the emulator's users meet). */
import type { ResourceDef } from './resources.js';
import { labelSelectorObjectToRequirements, matchRequirements } from './selectors.js';
import { invalidObject, type StatusCause } from './status.js';
import { strictCauses } from './strict.js';
import { allocateNodePorts } from './strict-service.js';
import { applyWorkloadDefaults, validateWorkload, workloadCreateStatus } from './workload-defaults.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

export function validateName(name: string, asLabel: boolean, field = 'metadata.name'): StatusCause[] {
  if (asLabel) {
    if (name.length > 63)
      return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${name}": must be no more than 63 characters` }];
    if (!LABEL.test(name)) {
      return [
        {
          reason: 'FieldValueInvalid',
          field,
          message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        },
      ];
    }
    return [];
  }
  if (name.length > 253)
    return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${name}": must be no more than 253 characters` }];
  if (!SUBDOMAIN.test(name)) {
    return [
      {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      },
    ];
  }
  return [];
}

function goMap(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {}).map(([k, v]) => `"${k}":"${v}"`);
  return `map[string]string{${entries.join(', ')}}`;
}

function validatePodSpec(spec: any, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const containers = spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' });
    return causes;
  }
  const seen = new Set<string>();
  containers.forEach((c: any, i: number) => {
    if (!c?.name) causes.push({ reason: 'FieldValueRequired', field: `${path}.containers[${i}].name`, message: 'Required value' });
    else {
      causes.push(...validateName(c.name, true, `${path}.containers[${i}].name`));
      if (seen.has(c.name))
        causes.push({ reason: 'FieldValueDuplicate', field: `${path}.containers[${i}].name`, message: `Duplicate value: "${c.name}"` });
      seen.add(c.name);
    }
    if (!c?.image) causes.push({ reason: 'FieldValueRequired', field: `${path}.containers[${i}].image`, message: 'Required value' });
  });
  return causes;
}

/** Throws 422 Invalid when the object would be refused by the real apiserver's validation. */
export function validate(res: ResourceDef, obj: any): void {
  const name: string = obj?.metadata?.name ?? '';
  const causes: StatusCause[] = [];
  if (!name)
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  // Service names are DNS-1035 labels (strict.ts)
  else if (res.kind !== 'Service') causes.push(...validateName(name, !!res.nameIsLabel));
  if (res.namespaced && obj?.metadata?.namespace === '') {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' });
  }
  for (const [k, v] of Object.entries((obj?.metadata?.labels ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string')
      causes.push({
        reason: 'FieldValueInvalid',
        field: `metadata.labels`,
        message: `Invalid value: ${JSON.stringify(v)}: label ${k} must be a string`,
      });
    else if (v.length > 63 || (v !== '' && !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v))) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
  }
  if (res.kind === 'Deployment' || res.kind === 'ReplicaSet' || res.kind === 'StatefulSet' || res.kind === 'DaemonSet') {
    const spec = obj.spec ?? {};
    if (spec.replicas !== undefined && (typeof spec.replicas !== 'number' || spec.replicas < 0 || !Number.isInteger(spec.replicas))) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`,
      });
    }
    const sel = spec.selector;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    } else if (!matchRequirements(labelSelectorObjectToRequirements(sel), spec.template?.metadata?.labels)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${goMap(spec.template?.metadata?.labels)}: \`selector\` does not match template \`labels\``,
      });
    }
    causes.push(...validatePodSpec(spec.template?.spec, 'spec.template.spec'));
  }
  if (res.kind === 'Pod') causes.push(...validatePodSpec(obj.spec, 'spec'));
  causes.push(...validateWorkload(res.kind, obj));
  causes.push(...strictCauses(res, obj));
  if (res.kind === 'ConfigMap') {
    for (const k of Object.keys(obj.data ?? {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k))
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'data',
          message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        });
    }
  }
  if (causes.length) throw invalidObject(res, name, causes);
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const lastSeg = c.image.split('/').pop() ?? '';
    const hasTag = lastSeg.includes(':') && !c.image.includes('@');
    const tag = hasTag ? lastSeg.split(':').pop() : undefined;
    c.imagePullPolicy = c.image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

export function defaultPodSpec(spec: any, isPod: boolean): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.containers ?? []) {
    defaultContainer(c);
    if (isPod && c?.resources?.limits) {
      c.resources.requests ??= {};
      for (const [k, v] of Object.entries(c.resources.limits as Record<string, string>)) c.resources.requests[k] ??= v;
    }
  }
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  if (isPod) {
    spec.enableServiceLinks ??= true;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    spec.priority ??= 0;
    spec.serviceAccountName ??= 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.tolerations ??= [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
  }
}

export function qosClass(spec: any): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs: any[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = cs.length > 0;
  for (const c of cs) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

let serviceIpCounter = 10;

/** Defaults applied on every write (create, update, patch). */
export function applyDefaults(res: ResourceDef, obj: any): void {
  obj.metadata ??= {};
  switch (res.kind) {
    case 'Namespace':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec ??= {};
      obj.spec.finalizers ??= ['kubernetes'];
      obj.status ??= {};
      obj.status.phase ??= 'Active';
      break;
    case 'Pod':
      defaultPodSpec((obj.spec ??= {}), true);
      break;
    case 'Deployment': {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      s.strategy ??= { type: 'RollingUpdate' };
      s.strategy.type ??= 'RollingUpdate';
      if (s.strategy.type === 'RollingUpdate') {
        s.strategy.rollingUpdate ??= {};
        s.strategy.rollingUpdate.maxSurge ??= '25%';
        s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      }
      s.template ??= {};
      s.template.metadata ??= {};
      defaultPodSpec(s.template.spec, false);
      obj.status ??= {};
      break;
    }
    case 'ReplicaSet': {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.template ??= {};
      defaultPodSpec(s.template.spec, false);
      obj.status ??= { replicas: 0 };
      break;
    }
    case 'Service': {
      const s = (obj.spec ??= {});
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      if (s.type !== 'ExternalName' && s.clusterIP === undefined) {
        const n = serviceIpCounter++;
        s.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
        s.clusterIPs = [s.clusterIP];
      }
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
      s.internalTrafficPolicy ??= 'Cluster';
      for (const p of s.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      allocateNodePorts(obj);
      obj.status ??= { loadBalancer: {} };
      break;
    }
    default:
      applyWorkloadDefaults(res.kind, obj, defaultPodSpec);
  }
}

/** What create does to status and server-owned fields (HTTP create only). */
export function prepareForCreate(res: ResourceDef, obj: any): void {
  if (res.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
  else if (res.kind === 'Deployment') obj.status = {};
  else if (res.kind === 'ReplicaSet') obj.status = { replicas: 0 };
  else if (workloadCreateStatus(res.kind)) obj.status = workloadCreateStatus(res.kind);
  if (obj.metadata) {
    delete obj.metadata.resourceVersion;
    delete obj.metadata.uid;
    delete obj.metadata.creationTimestamp;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.generation;
  }
  if (!obj.metadata?.name && obj.metadata?.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
}
