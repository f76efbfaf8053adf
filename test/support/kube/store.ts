/** Objects by resource/namespace/name, the global resourceVersion counter, and the event history watches replay. */
import { randomUUID } from 'node:crypto';
import type { ResourceDef } from './resources.js';
import { alreadyExists, conflict, notFound } from './status.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  rv: number;
  res: ResourceDef;
  /** the object after the change (for DELETED: the last state, carrying the deletion's resourceVersion) */
  obj: any;
  /** the object before the change (MODIFIED, DELETED) */
  prev?: any;
  /** cached `{"type":…,"object":…}\n` line */
  line?: string;
}

export type StoreListener = (ev: StoreEvent) => void;

/** RFC 3339 with second precision, as the apiserver writes metav1.Time. */
export function nowTime(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** JSON with sorted object keys and null-valued keys dropped, for content comparison and hashing. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableStringify(x))).join(',')}]`;
  // null and absent are the same to the apiserver's Go structs (e.g. template metadata.creationTimestamp: null)
  const keys = Object.keys(v)
    .filter((k) => (v as any)[k] !== undefined && (v as any)[k] !== null)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as any)[k])}`).join(',')}}`;
}

export function eventLine(ev: StoreEvent): string {
  if (ev.line === undefined) ev.line = `{"type":"${ev.type}","object":${JSON.stringify(ev.obj)}}\n`;
  return ev.line;
}

export function objectKey(res: ResourceDef, ns: string | undefined, name: string): string {
  return `${res.apiVersion}|${res.kind}|${ns ?? ''}|${name}`;
}

/**
 * Stored objects are never mutated after they are stored: every write stores a new object.
 * That lets lists and watch events hand out references without copying.
 */
export class Store {
  private rvCounter = 0;
  private readonly data = new Map<ResourceDef, Map<string, Map<string, any>>>();
  private history: StoreEvent[] = [];
  private head = 0;
  /** events with rv <= compactedRV are no longer in history */
  compactedRV = 0;
  private readonly listeners = new Set<StoreListener>();
  /** owner uid → keys of dependents (objectKey) */
  private readonly owners = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, { res: ResourceDef; ns: string | undefined; name: string }>();

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.rvCounter;
  }

  onChange(l: StoreListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get(res: ResourceDef, ns: string | undefined, name: string): any | undefined {
    return this.data
      .get(res)
      ?.get(res.namespaced ? (ns ?? '') : '')
      ?.get(name);
  }

  /** References to stored objects (do not mutate). */
  list(res: ResourceDef, ns?: string): any[] {
    const byNs = this.data.get(res);
    if (!byNs) return [];
    if (ns !== undefined && res.namespaced) return [...(byNs.get(ns)?.values() ?? [])];
    const out: any[] = [];
    for (const m of byNs.values()) for (const o of m.values()) out.push(o);
    return out;
  }

  count(res: ResourceDef, ns?: string): number {
    const byNs = this.data.get(res);
    if (!byNs) return 0;
    if (ns !== undefined && res.namespaced) return byNs.get(ns)?.size ?? 0;
    let n = 0;
    for (const m of byNs.values()) n += m.size;
    return n;
  }

  /** Namespaces that currently hold at least one object of this resource. */
  namespacesOf(res: ResourceDef): string[] {
    return [...(this.data.get(res)?.keys() ?? [])];
  }

  /** Dependents (by ownerReferences uid) of an owner: [res, obj] pairs. */
  dependents(ownerUid: string): Array<{ res: ResourceDef; obj: any }> {
    const keys = this.owners.get(ownerUid);
    if (!keys) return [];
    const out: Array<{ res: ResourceDef; obj: any }> = [];
    for (const k of keys) {
      const loc = this.byKey.get(k);
      if (!loc) continue;
      const obj = this.get(loc.res, loc.ns, loc.name);
      if (obj) out.push({ res: loc.res, obj });
    }
    return out;
  }

  /** Store a new object (owned by the store from now on). Assigns uid, creationTimestamp, resourceVersion. */
  create(res: ResourceDef, obj: any): any {
    const meta = (obj.metadata ??= {});
    const ns: string = res.namespaced ? (meta.namespace ?? '') : '';
    if (!res.namespaced) delete meta.namespace;
    let byNs = this.data.get(res);
    if (!byNs) this.data.set(res, (byNs = new Map()));
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    if (m.has(meta.name)) throw alreadyExists(res, meta.name);
    obj.apiVersion = res.apiVersion;
    obj.kind = res.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTime();
    if (res.generation) meta.generation = 1;
    delete meta.deletionTimestamp;
    const rv = ++this.rvCounter;
    meta.resourceVersion = String(rv);
    m.set(meta.name, obj);
    this.index(res, undefined, obj);
    this.emit({ type: 'ADDED', rv, res, obj });
    return obj;
  }

  /**
   * Replace a stored object. `obj` must be a fresh object (not the stored one).
   * If obj.metadata.resourceVersion is set it must match (else 409 Conflict).
   */
  update(res: ResourceDef, obj: any): any {
    const meta = (obj.metadata ??= {});
    const ns: string = res.namespaced ? (meta.namespace ?? '') : '';
    const m = this.data.get(res)?.get(ns);
    const prev = m?.get(meta.name);
    if (!m || !prev) throw notFound(res, meta.name);
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== prev.metadata.resourceVersion) {
      throw conflict(res, meta.name);
    }
    obj.apiVersion = res.apiVersion;
    obj.kind = res.kind;
    meta.uid = prev.metadata.uid;
    meta.creationTimestamp = prev.metadata.creationTimestamp;
    if (res.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    if (res.generation) {
      const g = prev.metadata.generation ?? 1;
      meta.generation = stableStringify(prev.spec) === stableStringify(obj.spec) ? g : g + 1;
    }
    const rv = ++this.rvCounter;
    meta.resourceVersion = String(rv);
    m.set(meta.name, obj);
    this.index(res, prev, obj);
    this.emit({ type: 'MODIFIED', rv, res, obj, prev });
    return obj;
  }

  delete(res: ResourceDef, ns: string | undefined, name: string): any {
    const nsKey = res.namespaced ? (ns ?? '') : '';
    const byNs = this.data.get(res);
    const m = byNs?.get(nsKey);
    const prev = m?.get(name);
    if (!m || !prev) throw notFound(res, name);
    m.delete(name);
    if (m.size === 0) byNs!.delete(nsKey);
    const rv = ++this.rvCounter;
    const obj = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } };
    this.index(res, prev, undefined);
    this.emit({ type: 'DELETED', rv, res, obj, prev });
    return obj;
  }

  /** Events after `rv`, or 'expired' if some of them are no longer retained. */
  eventsSince(rv: number): StoreEvent[] | 'expired' {
    if (rv < this.compactedRV) return 'expired';
    let lo = this.head;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  compactHistory(): void {
    this.history = [];
    this.head = 0;
    this.compactedRV = this.rvCounter;
  }

  private index(res: ResourceDef, prev: any, next: any): void {
    const o = next ?? prev;
    const key = objectKey(res, o.metadata.namespace, o.metadata.name);
    const prevOwners: any[] = prev?.metadata?.ownerReferences ?? [];
    const nextOwners: any[] = next?.metadata?.ownerReferences ?? [];
    if (prevOwners.length === 0 && nextOwners.length === 0) return;
    for (const r of prevOwners) this.owners.get(r.uid)?.delete(key);
    for (const r of nextOwners) {
      let s = this.owners.get(r.uid);
      if (!s) this.owners.set(r.uid, (s = new Set()));
      s.add(key);
    }
    for (const r of prevOwners) if (this.owners.get(r.uid)?.size === 0) this.owners.delete(r.uid);
    if (next) this.byKey.set(key, { res, ns: o.metadata.namespace, name: o.metadata.name });
    else this.byKey.delete(key);
  }

  private emit(ev: StoreEvent): void {
    this.history.push(ev);
    if (this.history.length - this.head > this.historyLimit) {
      this.compactedRV = this.history[this.head]!.rv;
      this.history[this.head] = undefined as unknown as StoreEvent;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.history.length) {
        this.history = this.history.slice(this.head);
        this.head = 0;
      }
    }
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        // a broken listener must not break the write path
        console.error('kube emulator: listener failed', err);
      }
    }
  }
}
