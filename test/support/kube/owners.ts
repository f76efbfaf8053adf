/** Ownership and pod-state helpers shared by the workload controllers. */
import type { ResourceDef } from './resources.js';
import type { Store } from './store.js';

export function isControlledBy(obj: any, owner: any): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r: any) => r.controller && r.uid === owner.metadata.uid);
}

export function controllerOf(obj: any): any | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
}

export function controllerRef(owner: any): any {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Objects of `res` whose controller is `owner`. */
export function controlled(store: Store, res: ResourceDef, owner: any): any[] {
  return store
    .dependents(owner.metadata.uid)
    .filter((d) => d.res === res && isControlledBy(d.obj, owner))
    .map((d) => d.obj);
}

export function podReady(p: any): boolean {
  return (p?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

export function podActive(p: any): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

/** Sorted-key deep copy: what Go's json.Marshal of a map[string]interface{} writes. */
export function sortedKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => [k, sortedKeys(v[k])]),
  );
}

export function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const f = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(f) : Math.floor(f);
  }
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}
