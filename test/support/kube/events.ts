/** core/v1 Events as the kubelet, scheduler and controllers record them (aggregated by object+reason+message). */
import { randomBytes } from 'node:crypto';
import { mustResource } from './resources.js';
import { nowTime, type Store } from './store.js';

export type EventMode = 'all' | 'warnings' | 'none';

const EVENT = mustResource('v1', 'Event');
const NAMESPACE = mustResource('v1', 'Namespace');

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: string;
  host?: string;
  fieldPath?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly store: Store,
    public mode: EventMode,
  ) {}

  record(involved: any, e: EventSpec): void {
    if (this.mode === 'none' || (this.mode === 'warnings' && e.type !== 'Warning')) return;
    const meta = involved?.metadata ?? {};
    const ns: string = meta.namespace || 'default';
    if (!this.store.get(NAMESPACE, undefined, ns)) return;
    const key = `${meta.uid}|${e.reason}|${e.message}|${e.fieldPath ?? ''}`;
    const now = nowTime();
    const existingName = this.seen.get(key);
    if (existingName) {
      const prev = this.store.get(EVENT, ns, existingName);
      if (prev) {
        this.store.update(EVENT, { ...prev, metadata: { ...prev.metadata }, count: (prev.count ?? 1) + 1, lastTimestamp: now });
        return;
      }
    }
    const name = `${meta.name}.${randomBytes(8).toString('hex')}`;
    this.seen.set(key, name);
    this.store.create(EVENT, {
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: involved.kind,
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: meta.resourceVersion,
        ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
      },
      reason: e.reason,
      message: e.message,
      source: { component: e.component, ...(e.host ? { host: e.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: e.type,
      eventTime: null,
      reportingComponent: e.component,
      reportingInstance: e.host ?? '',
    });
  }
}
