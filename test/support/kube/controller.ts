/** The controller manager: one work queue for the workload controllers, garbage collection, scheduler and kubelet wiring. */
import { Clock } from './clock.js';
import { DeploymentController } from './deployment-controller.js';
import { DEPLOYMENT } from './deployment-status.js';
import { EventRecorder, type EventMode } from './events.js';
import { Kubelet } from './kubelet.js';
import { controllerOf, podReady } from './owners.js';
import type { CreateRetry } from './pod-create.js';
import type { PodBehavior } from './pod-runs.js';
import { REPLICASET, ReplicaSetController } from './replicaset-controller.js';
import { mustResource } from './resources.js';
import { Scheduler } from './scheduler.js';
import { ensureDefaultServiceAccount, SERVICE_ACCOUNT } from './service-accounts.js';
import type { Store, StoreEvent } from './store.js';
import { WorkloadControllers } from './workloads.js';

const POD = mustResource('v1', 'Pod');
const NAMESPACE = mustResource('v1', 'Namespace');

export interface ControllerOptions {
  tickMs: number;
  events: EventMode;
}

export class Controller {
  readonly clock = new Clock();
  readonly events: EventRecorder;
  readonly scheduler: Scheduler;
  readonly kubelet: Kubelet;
  private readonly queue = new Set<string>();
  private scheduled = false;
  private readonly imageBehaviors = new Map<string, PodBehavior>();
  private defaultBehavior: PodBehavior = { kind: 'ready' };
  private readonly replicaSets: ReplicaSetController;
  private readonly deployments: DeploymentController;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Queue items whose pod creates were refused: back-off attempts so far and the pending re-sync. */
  private readonly refusedCreates = new Map<string, { attempts: number; timer: NodeJS.Timeout | undefined }>();
  /** The work queue's rate limiter for refused creates: doubling from a few ticks, at most 2 s apart. */
  private readonly createRetry: CreateRetry = {
    failed: (item) => {
      const r = this.refusedCreates.get(item) ?? { attempts: 0, timer: undefined };
      this.refusedCreates.set(item, r);
      if (r.timer) return;
      const delay = Math.min(Math.max(50, this.opts.tickMs * 5) * 2 ** r.attempts++, 2000);
      r.timer = this.clock.after(delay, () => {
        r.timer = undefined;
        this.enqueue(item);
      });
    },
    succeeded: (item) => {
      this.clock.cancel(this.refusedCreates.get(item)?.timer);
      this.refusedCreates.delete(item);
    },
  };
  private readonly workloads: WorkloadControllers;
  private unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly opts: ControllerOptions,
  ) {
    this.events = new EventRecorder(store, opts.events);
    this.scheduler = new Scheduler(store, this.events);
    this.scheduler.onCapacity = () => this.retryPendingSoon();
    this.kubelet = new Kubelet(store, this.events, this.clock, {
      tickMs: opts.tickMs,
      behaviorFor: (image) => this.behaviorFor(image),
    });
    this.replicaSets = new ReplicaSetController(store, this.events, this.createRetry);
    this.deployments = new DeploymentController(store, this.events, this.clock, (ns, name) => this.enqueue(`deploy|${ns}|${name}`));
    this.workloads = new WorkloadControllers(store, this.events, (item) => this.enqueue(item), this.createRetry);
    this.unsubscribe = store.onChange((ev) => this.observe(ev));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.clock.close();
    this.kubelet.close();
  }

  pause(): void {
    this.clock.pause();
  }

  resume(): void {
    this.clock.resume();
    this.kick();
  }

  get paused(): boolean {
    return this.clock.isPaused;
  }

  setImageBehavior(image: string, b: PodBehavior): void {
    this.imageBehaviors.set(image, b);
  }

  setDefaultBehavior(b: PodBehavior): void {
    this.defaultBehavior = b;
  }

  behaviorFor(image: string): PodBehavior {
    return this.imageBehaviors.get(image) ?? this.defaultBehavior;
  }

  // ------------------------------------------------------------------ queue

  private enqueue(item: string): void {
    this.queue.add(item);
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.closed || this.queue.size === 0) return;
    this.scheduled = true;
    this.clock.after(0, () => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    let budget = 50_000;
    while (this.queue.size > 0 && budget-- > 0 && !this.clock.isPaused) {
      const item = this.queue.values().next().value as string;
      this.queue.delete(item);
      const [kind, ns, name] = item.split('|') as [string, string, string];
      try {
        switch (kind) {
          case 'deploy':
            this.deployments.sync(ns, name);
            break;
          case 'rs':
            this.replicaSets.sync(ns, name);
            break;
          case 'schedule':
            this.scheduler.schedule(ns, name);
            break;
          case 'gc':
            this.collect(name);
            break;
          case 'sa':
            // the serviceaccounts controller puts a deleted `default` back while its namespace lives
            if (this.store.get(NAMESPACE, undefined, ns)) ensureDefaultServiceAccount(this.store, ns);
            break;
          default:
            this.workloads.sync(kind, ns, name);
        }
      } catch (err) {
        console.error(`kube emulator: ${kind} ${ns}/${name} sync failed`, err);
      }
    }
    this.kick();
  }

  private observe(ev: StoreEvent): void {
    this.scheduler.observe(ev);
    this.kubelet.observe(ev);
    this.workloads.observe(ev);
    const o = ev.obj;
    const ns: string = o.metadata?.namespace ?? '';
    const name: string = o.metadata?.name;
    if (ev.res === SERVICE_ACCOUNT && ev.type === 'DELETED' && name === 'default') this.enqueue(`sa|${ns}|${name}`);
    if (ev.res === DEPLOYMENT) {
      if (ev.type === 'DELETED') {
        this.enqueue(`gc||${o.metadata.uid}`);
        this.deployments.forget(ns, name);
      } else this.enqueue(`deploy|${ns}|${name}`);
    } else if (ev.res === REPLICASET) {
      if (ev.type === 'DELETED') this.enqueue(`gc||${o.metadata.uid}`);
      else this.enqueue(`rs|${ns}|${name}`);
      const owner = controllerOf(o);
      if (owner?.kind === 'Deployment') this.enqueue(`deploy|${ns}|${owner.name}`);
    } else if (ev.res === POD) {
      const owner = controllerOf(o);
      if (owner?.kind === 'ReplicaSet') {
        // only changes the ReplicaSet cares about: existence, readiness, phase
        const relevant = ev.type !== 'MODIFIED' || podReady(ev.prev) !== podReady(o) || ev.prev?.status?.phase !== o.status?.phase;
        if (relevant) this.enqueue(`rs|${ns}|${owner.name}`);
      }
      if (ev.type === 'ADDED' && !o.spec?.nodeName && (o.status?.phase ?? 'Pending') === 'Pending') this.enqueue(`schedule|${ns}|${name}`);
    }
  }

  private retryPendingSoon(): void {
    if (this.retryTimer || this.scheduler.pending.size === 0) return;
    this.retryTimer = this.clock.after(this.opts.tickMs * 2, () => {
      this.retryTimer = undefined;
      for (const key of this.scheduler.pending.keys()) {
        const i = key.indexOf('/');
        this.queue.add(`schedule|${key.slice(0, i)}|${key.slice(i + 1)}`);
      }
      this.kick();
    });
  }

  private collect(ownerUid: string): void {
    for (const { res, obj } of this.store.dependents(ownerUid)) {
      try {
        this.store.delete(res, obj.metadata.namespace, obj.metadata.name);
      } catch {
        // already gone
      }
    }
  }
}
