/** The resource types the emulator serves, and the discovery documents built from them. */

export interface ResourceDef {
  /** '' for the core group */
  group: string;
  version: string;
  /** 'v1' or 'apps/v1' */
  apiVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  verbs: string[];
  subresources: string[];
  /** whether PUT/PATCH of the main resource ignores status (status subresource exists) */
  hasStatus: boolean;
  /** metadata.generation increments on spec changes */
  generation: boolean;
  /** not stored (e.g. SelfSubjectAccessReview) */
  virtual?: boolean;
  /** names validated as DNS-1123 label (63 chars) rather than subdomain */
  nameIsLabel?: boolean;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(d: Omit<ResourceDef, 'apiVersion' | 'listKind' | 'singular'> & { singular?: string }): ResourceDef {
  return {
    ...d,
    apiVersion: d.group ? `${d.group}/${d.version}` : d.version,
    listKind: `${d.kind}List`,
    singular: d.singular ?? d.kind.toLowerCase(),
  };
}

export const RESOURCES: ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
    hasStatus: true,
    generation: false,
    nameIsLabel: true,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    verbs: CRUD,
    subresources: ['status', 'log', 'eviction'],
    hasStatus: true,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    namespaced: false,
    shortNames: ['no'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    namespaced: true,
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
    hasStatus: true,
    generation: false,
    nameIsLabel: true,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    verbs: CRUD,
    subresources: ['status', 'scale'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    verbs: CRUD,
    subresources: ['status', 'scale'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    verbs: CRUD,
    subresources: ['status', 'scale'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
    shortNames: ['pvc'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: false,
  }),
  def({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    shortNames: ['ing'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    verbs: CRUD,
    subresources: ['status'],
    hasStatus: true,
    generation: true,
  }),
  def({
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
    verbs: CRUD,
    subresources: [],
    hasStatus: false,
    generation: false,
  }),
  def({
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    plural: 'selfsubjectaccessreviews',
    namespaced: false,
    verbs: ['create'],
    subresources: [],
    hasStatus: false,
    generation: false,
    virtual: true,
  }),
];

const byGVP = new Map<string, ResourceDef>();
const byGVK = new Map<string, ResourceDef>();
for (const r of RESOURCES) {
  byGVP.set(`${r.apiVersion}|${r.plural}`, r);
  byGVK.set(`${r.apiVersion}|${r.kind}`, r);
}

export function resourceByPath(apiVersion: string, plural: string): ResourceDef | undefined {
  return byGVP.get(`${apiVersion}|${plural}`);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return byGVK.get(`${apiVersion}|${kind}`);
}

export function mustResource(apiVersion: string, kind: string): ResourceDef {
  const r = resourceByKind(apiVersion, kind);
  if (!r) throw new Error(`kube emulator: unknown resource ${apiVersion} ${kind}`);
  return r;
}

/** 'deployments.apps' / 'pods' — how the apiserver names a resource in messages. */
export function qualifiedName(r: ResourceDef): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export const GROUP_VERSIONS = [...new Set(RESOURCES.map((r) => r.apiVersion))];

export function discoveryApiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function discoveryApiGroupList(): object {
  const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => discoveryApiGroup(g)),
  };
}

export function discoveryApiGroup(group: string): object | undefined {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === group).map((r) => r.version))];
  if (versions.length === 0) return undefined;
  const gv = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: gv, preferredVersion: gv[0] };
}

export function discoveryResourceList(apiVersion: string): object | undefined {
  const rs = RESOURCES.filter((r) => r.apiVersion === apiVersion);
  if (rs.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    });
    for (const sub of r.subresources) {
      if (sub === 'scale') {
        resources.push({
          name: `${r.plural}/scale`,
          singularName: '',
          namespaced: r.namespaced,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        });
      } else if (sub === 'eviction') {
        resources.push({
          name: `${r.plural}/eviction`,
          singularName: '',
          namespaced: r.namespaced,
          group: 'policy',
          version: 'v1',
          kind: 'Eviction',
          verbs: ['create'],
        });
      } else if (sub === 'log') {
        resources.push({ name: `${r.plural}/log`, singularName: '', namespaced: r.namespaced, kind: 'Pod', verbs: ['get'] });
      } else {
        resources.push({
          name: `${r.plural}/${sub}`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'patch', 'update'],
        });
      }
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersion, resources };
}
