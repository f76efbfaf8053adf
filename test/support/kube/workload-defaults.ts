/** Defaulting and validation of StatefulSets, DaemonSets, ControllerRevisions, PersistentVolumeClaims, Ingresses, PodDisruptionBudgets. */
import type { StatusCause } from './status.js';

type PodSpecDefaulter = (spec: any, isPod: boolean) => void;

export function applyWorkloadDefaults(kind: string, obj: any, defaultPodSpec: PodSpecDefaulter): void {
  switch (kind) {
    case 'StatefulSet': {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.podManagementPolicy ??= 'OrderedReady';
      s.revisionHistoryLimit ??= 10;
      s.updateStrategy ??= {};
      s.updateStrategy.type ??= 'RollingUpdate';
      if (s.updateStrategy.type === 'RollingUpdate') {
        s.updateStrategy.rollingUpdate ??= {};
        s.updateStrategy.rollingUpdate.partition ??= 0;
      }
      s.persistentVolumeClaimRetentionPolicy ??= {};
      s.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
      s.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
      s.template ??= {};
      s.template.metadata ??= {};
      defaultPodSpec(s.template.spec, false);
      for (const c of s.volumeClaimTemplates ?? []) {
        if (!c || typeof c !== 'object') continue;
        c.apiVersion ??= 'v1';
        c.kind ??= 'PersistentVolumeClaim';
        c.spec ??= {};
        c.spec.volumeMode ??= 'Filesystem';
        c.status ??= { phase: 'Pending' };
      }
      obj.status ??= { replicas: 0, availableReplicas: 0 };
      break;
    }
    case 'DaemonSet': {
      const s = (obj.spec ??= {});
      s.revisionHistoryLimit ??= 10;
      s.updateStrategy ??= {};
      s.updateStrategy.type ??= 'RollingUpdate';
      if (s.updateStrategy.type === 'RollingUpdate') {
        s.updateStrategy.rollingUpdate ??= {};
        s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
        s.updateStrategy.rollingUpdate.maxSurge ??= 0;
      }
      s.template ??= {};
      s.template.metadata ??= {};
      defaultPodSpec(s.template.spec, false);
      obj.status ??= { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      break;
    }
    case 'PersistentVolumeClaim': {
      const s = (obj.spec ??= {});
      s.volumeMode ??= 'Filesystem';
      obj.status ??= { phase: 'Pending' };
      break;
    }
    case 'Ingress':
      obj.status ??= { loadBalancer: {} };
      break;
    case 'PodDisruptionBudget':
      obj.status ??= { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 };
      break;
  }
}

/** Status an HTTP create starts from. */
export function workloadCreateStatus(kind: string): any | undefined {
  switch (kind) {
    case 'StatefulSet':
      return { replicas: 0, availableReplicas: 0 };
    case 'DaemonSet':
      return { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    case 'PersistentVolumeClaim':
      return { phase: 'Pending' };
    case 'Ingress':
      return { loadBalancer: {} };
    default:
      return undefined;
  }
}

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

export function validateWorkload(kind: string, obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = obj.spec ?? {};
  if (kind === 'StatefulSet') {
    const t = spec.updateStrategy?.type;
    if (t !== undefined && t !== 'RollingUpdate' && t !== 'OnDelete') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.updateStrategy.type',
        message: `Unsupported value: "${t}": supported values: "OnDelete", "RollingUpdate"`,
      });
    }
    const partition = spec.updateStrategy?.rollingUpdate?.partition;
    if (partition !== undefined && (typeof partition !== 'number' || partition < 0)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.updateStrategy.rollingUpdate.partition',
        message: `Invalid value: ${JSON.stringify(partition)}: must be greater than or equal to 0`,
      });
    }
    const pmp = spec.podManagementPolicy;
    if (pmp !== undefined && pmp !== 'OrderedReady' && pmp !== 'Parallel') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.podManagementPolicy',
        message: `Unsupported value: "${pmp}": supported values: "OrderedReady", "Parallel"`,
      });
    }
    (spec.volumeClaimTemplates ?? []).forEach((c: any, i: number) => {
      if (!c?.metadata?.name)
        causes.push({ reason: 'FieldValueRequired', field: `spec.volumeClaimTemplates[${i}].metadata.name`, message: 'Required value' });
      causes.push(...validateClaimSpec(c?.spec, `spec.volumeClaimTemplates[${i}].spec`));
    });
  }
  if (kind === 'DaemonSet') {
    const t = spec.updateStrategy?.type;
    if (t !== undefined && t !== 'RollingUpdate' && t !== 'OnDelete') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.updateStrategy.type',
        message: `Unsupported value: "${t}": supported values: "OnDelete", "RollingUpdate"`,
      });
    }
    const ru = spec.updateStrategy?.rollingUpdate;
    if (t === 'RollingUpdate' && ru && isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.updateStrategy.rollingUpdate.maxUnavailable',
        message: 'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
      });
    }
  }
  if (kind === 'PersistentVolumeClaim') causes.push(...validateClaimSpec(spec, 'spec'));
  if (kind === 'ControllerRevision' && (typeof obj.revision !== 'number' || obj.revision < 0)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'revision',
      message: `Invalid value: ${JSON.stringify(obj.revision ?? 0)}: must be greater than or equal to 0`,
    });
  }
  if (kind === 'Ingress') {
    const backend = (b: any, path: string): void => {
      if (!b) return;
      if (b.service && b.resource)
        causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: 'Invalid value: "": cannot set both resource and service backends',
        });
      if (b.service) {
        if (!b.service.name) causes.push({ reason: 'FieldValueRequired', field: `${path}.service.name`, message: 'Required value' });
        const p = b.service.port ?? {};
        if (p.name === undefined && p.number === undefined)
          causes.push({
            reason: 'FieldValueRequired',
            field: `${path}.service.port`,
            message: 'Required value: port name or number is required',
          });
        if (p.number !== undefined && (typeof p.number !== 'number' || p.number < 1 || p.number > 65535)) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: `${path}.service.port.number`,
            message: `Invalid value: ${JSON.stringify(p.number)}: must be between 1 and 65535, inclusive`,
          });
        }
      } else if (!b.resource)
        causes.push({ reason: 'FieldValueRequired', field: path, message: 'Required value: resource or service backend is required' });
    };
    backend(spec.defaultBackend, 'spec.defaultBackend');
    if (!spec.defaultBackend && !(spec.rules ?? []).length)
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.rules',
        message: 'Invalid value: "[]": either `defaultBackend` or `rules` must be specified',
      });
    (spec.rules ?? []).forEach((r: any, i: number) => {
      if (r?.host !== undefined && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(r.host)) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: `spec.rules[${i}].host`,
          message: `Invalid value: "${r.host}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        });
      }
      (r?.http?.paths ?? []).forEach((p: any, j: number) => {
        const f = `spec.rules[${i}].http.paths[${j}]`;
        if (p?.pathType === undefined)
          causes.push({ reason: 'FieldValueRequired', field: `${f}.pathType`, message: 'Required value: pathType must be specified' });
        else if (!PATH_TYPES.includes(p.pathType))
          causes.push({
            reason: 'FieldValueNotSupported',
            field: `${f}.pathType`,
            message: `Unsupported value: "${p.pathType}": supported values: "Exact", "ImplementationSpecific", "Prefix"`,
          });
        if ((p?.pathType === 'Exact' || p?.pathType === 'Prefix') && !String(p?.path ?? '').startsWith('/')) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: `${f}.path`,
            message: `Invalid value: "${p?.path ?? ''}": must be an absolute path`,
          });
        }
        backend(p?.backend, `${f}.backend`);
        if (!p?.backend) causes.push({ reason: 'FieldValueRequired', field: `${f}.backend`, message: 'Required value' });
      });
    });
    (spec.tls ?? []).forEach((t: any, i: number) => {
      if (t?.secretName !== undefined && typeof t.secretName !== 'string')
        causes.push({ reason: 'FieldValueInvalid', field: `spec.tls[${i}].secretName`, message: 'Invalid value' });
    });
  }
  return causes;
}

function isZero(v: unknown): boolean {
  return v === undefined || v === 0 || v === '0%' || v === '0';
}

function validateClaimSpec(spec: any, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const modes: unknown[] = spec?.accessModes ?? [];
  if (modes.length === 0)
    causes.push({
      reason: 'FieldValueRequired',
      field: `${path}.accessModes`,
      message: 'Required value: at least 1 access mode is required',
    });
  for (const m of modes) {
    if (!['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].includes(m as string)) {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: `${path}.accessModes`,
        message: `Unsupported value: "${String(m)}": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"`,
      });
    }
  }
  if (!spec?.dataSource && spec?.resources?.requests?.storage === undefined) {
    causes.push({ reason: 'FieldValueRequired', field: `${path}.resources[storage]`, message: 'Required value' });
  }
  return causes;
}
