/** Service validation (type, ports, node ports, cluster IPs), node-port allocation and the Service update preparation. */
import type { StatusCause } from './status.js';
import { stableStringify } from './store.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

function needsNodePorts(type: string | undefined): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

export function serviceCauses(svc: any): StatusCause[] {
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
