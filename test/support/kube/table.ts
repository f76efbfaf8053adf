/** meta.k8s.io/v1 Table responses, so `kubectl get` prints familiar columns. */
import type { ResourceDef } from './resources.js';

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && accept.includes('as=Table');
}

interface Col {
  name: string;
  type?: string;
  format?: string;
  cell: (o: any) => unknown;
}

function age(o: any): string {
  const t = Date.parse(o?.metadata?.creationTimestamp ?? '');
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function podStatus(p: any): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  for (const cs of p.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) return cs.state.waiting.reason;
    if (cs.state?.terminated?.reason) return cs.state.terminated.reason;
  }
  return p.status?.reason ?? p.status?.phase ?? 'Unknown';
}

const NAME: Col = { name: 'Name', format: 'name', cell: (o) => o.metadata?.name };
const AGE: Col = { name: 'Age', cell: age };

const COLUMNS: Record<string, Col[]> = {
  Pod: [
    NAME,
    {
      name: 'Ready',
      cell: (p) => `${(p.status?.containerStatuses ?? []).filter((c: any) => c.ready).length}/${p.spec?.containers?.length ?? 0}`,
    },
    { name: 'Status', cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      cell: (p) => String((p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0)),
    },
    AGE,
    { name: 'IP', cell: (p) => p.status?.podIP ?? '<none>' },
    { name: 'Node', cell: (p) => p.spec?.nodeName ?? '<none>' },
  ],
  Deployment: [
    NAME,
    { name: 'Ready', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => d.status?.availableReplicas ?? 0 },
    AGE,
  ],
  ReplicaSet: [
    NAME,
    { name: 'Desired', type: 'integer', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (r) => r.status?.readyReplicas ?? 0 },
    AGE,
  ],
  Node: [
    NAME,
    {
      name: 'Status',
      cell: (n) => ((n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') ? 'Ready' : 'NotReady'),
    },
    { name: 'Roles', cell: () => '<none>' },
    AGE,
    { name: 'Version', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
  ],
  Namespace: [NAME, { name: 'Status', cell: (n) => n.status?.phase ?? '' }, AGE],
  Event: [
    { name: 'Last Seen', cell: (e) => e.lastTimestamp ?? '' },
    { name: 'Type', cell: (e) => e.type ?? '' },
    { name: 'Reason', cell: (e) => e.reason ?? '' },
    { name: 'Object', cell: (e) => `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}` },
    { name: 'Message', cell: (e) => e.message ?? '' },
  ],
};

export function toTable(r: ResourceDef, list: { metadata: Record<string, unknown>; items: any[] }): object {
  const cols = COLUMNS[r.kind] ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: list.metadata,
    columnDefinitions: cols.map((c, i) => ({
      name: c.name,
      type: c.type ?? 'string',
      format: c.format ?? '',
      description: c.name,
      priority: i > 4 ? 1 : 0,
    })),
    rows: list.items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
