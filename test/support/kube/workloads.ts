/** Wiring of the StatefulSet and DaemonSet controllers into the controller's queue (items `sts|ns|name`, `ds|ns|name`). */
import { DaemonSetController, DAEMONSET } from './daemonset.js';
import type { EventRecorder } from './events.js';
import { controllerOf, podReady } from './owners.js';
import type { CreateRetry } from './pod-create.js';
import { mustResource } from './resources.js';
import { StatefulSetController, STATEFULSET } from './statefulset.js';
import type { Store, StoreEvent } from './store.js';

const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');
const CONTROLLER_REVISION = mustResource('apps/v1', 'ControllerRevision');

export class WorkloadControllers {
  private readonly sts: StatefulSetController;
  private readonly ds: DaemonSetController;

  constructor(
    store: Store,
    events: EventRecorder,
    private readonly enqueue: (item: string) => void,
    retry: CreateRetry,
  ) {
    this.sts = new StatefulSetController(store, events, retry);
    this.ds = new DaemonSetController(store, events, retry);
  }

  observe(ev: StoreEvent): void {
    const o = ev.obj;
    const ns: string = o.metadata?.namespace ?? '';
    if (ev.res === STATEFULSET || ev.res === DAEMONSET) {
      if (ev.type === 'DELETED') this.enqueue(`gc||${o.metadata.uid}`);
      else this.enqueue(`${ev.res === STATEFULSET ? 'sts' : 'ds'}|${ns}|${o.metadata.name}`);
    } else if (ev.res === POD || ev.res === CONTROLLER_REVISION) {
      const owner = controllerOf(o);
      if (owner?.kind !== 'StatefulSet' && owner?.kind !== 'DaemonSet') return;
      const relevant =
        ev.res !== POD || ev.type !== 'MODIFIED' || podReady(ev.prev) !== podReady(o) || ev.prev?.status?.phase !== o.status?.phase;
      if (relevant) this.enqueue(`${owner.kind === 'StatefulSet' ? 'sts' : 'ds'}|${ns}|${owner.name}`);
    } else if (ev.res === NODE) {
      const labelsOrTaints =
        ev.type !== 'MODIFIED' ||
        JSON.stringify([ev.prev?.metadata?.labels, ev.prev?.spec?.taints]) !== JSON.stringify([o.metadata?.labels, o.spec?.taints]);
      if (labelsOrTaints) for (const [dns, name] of this.ds.all()) this.enqueue(`ds|${dns}|${name}`);
    }
  }

  /** Run one queue item; false when the item is not ours. */
  sync(kind: string, ns: string, name: string): boolean {
    if (kind === 'sts') this.sts.sync(ns, name);
    else if (kind === 'ds') this.ds.sync(ns, name);
    else return false;
    return true;
  }
}
