/**
 * Recovery of open incidents: an incident recovers when its workload has been
 * quiet for the whole recovery window — no new occurrence, and every pod
 * healthy. An occurrence or any unhealthy pod restarts the clock, so kills that
 * keep coming (each container back to running right after) never look like a
 * recovery. The monitor tells this tracker about incidents, occurrences and pod changes.
 */
import type { Logger } from '../log.js';
import type { IncidentStore } from './incidents.js';
import type { Timers } from './timers.js';

export interface OpenIncident {
  id: string;
  gen: number;
  /** Workload key (see workloads.ts). */
  workload: string;
  recoverAfterMs: number;
}

export interface RecoveryOptions {
  store: Pick<IncidentStore, 'recover'>;
  enqueue(id: string, isNew: boolean): Promise<void>;
  /** Is every pod of the workload healthy now? */
  healthy(workload: string): boolean;
  now(): number;
  log: Logger;
  timers: Timers;
  isStopped(): boolean;
}

export class RecoveryTracker {
  private readonly open = new Map<string, OpenIncident>();
  /** Open incident ids per workload. */
  private readonly byWorkload = new Map<string, Set<string>>();
  private readonly healthySince = new Map<string, number>();
  /** When the workload's latest occurrence was seen (ms). */
  private readonly lastOccurrence = new Map<string, number>();

  constructor(private readonly opts: RecoveryOptions) {}

  /** An occurrence in the workload: whatever quiet time it had starts again. */
  occurred(workload: string, at: number): void {
    if (at <= (this.lastOccurrence.get(workload) ?? -Infinity)) return;
    this.lastOccurrence.set(workload, at);
    for (const id of this.byWorkload.get(workload) ?? []) this.opts.timers.clear(timerName(id));
  }

  /** An incident is open (again, or in a new generation): its recovery is judged from now on. `lastAt`: its latest occurrence, when known. */
  track(o: OpenIncident, lastAt?: number): void {
    if (lastAt !== undefined && Number.isFinite(lastAt)) this.occurred(o.workload, lastAt);
    const known = this.open.get(o.id);
    if (known && known.gen === o.gen) return;
    if (known && known.workload !== o.workload) this.untrack(known);
    this.open.set(o.id, o);
    const ids = this.byWorkload.get(o.workload) ?? new Set<string>();
    ids.add(o.id);
    this.byWorkload.set(o.workload, ids);
    this.opts.timers.clear(timerName(o.id));
  }

  /** Workloads with open incidents. */
  workloads(): string[] {
    return [...this.byWorkload.keys()];
  }

  /** When the workload's quiet time began: the later of every pod healthy and the last occurrence. */
  private quietSince(workload: string): number | undefined {
    const healthy = this.healthySince.get(workload);
    if (healthy === undefined) return undefined;
    return Math.max(healthy, this.lastOccurrence.get(workload) ?? -Infinity);
  }

  /** Quiet for the incident's window → recovered; any unhealthy pod or new occurrence resets the clock. */
  evaluate(workload: string): void {
    const ids = this.byWorkload.get(workload);
    if (!ids) return;
    const incidents = [...ids].map((id) => this.open.get(id)).filter((o): o is OpenIncident => o !== undefined);
    const { timers } = this.opts;
    if (!this.opts.healthy(workload)) {
      this.healthySince.delete(workload);
      for (const o of incidents) timers.clear(timerName(o.id));
      return;
    }
    const t = this.opts.now();
    if (!this.healthySince.has(workload)) this.healthySince.set(workload, t);
    const since = this.quietSince(workload) ?? t;
    for (const o of incidents) {
      if (timers.has(timerName(o.id))) continue;
      timers.set(timerName(o.id), since + o.recoverAfterMs - t, () => void this.tryRecover(o));
    }
  }

  private untrack(o: OpenIncident): void {
    if (this.open.get(o.id) === o) this.open.delete(o.id);
    const ids = this.byWorkload.get(o.workload);
    ids?.delete(o.id);
    if (ids?.size === 0) {
      this.byWorkload.delete(o.workload);
      this.healthySince.delete(o.workload);
      this.lastOccurrence.delete(o.workload);
    }
  }

  private async tryRecover(o: OpenIncident): Promise<void> {
    const t = this.opts.now();
    if (this.opts.isStopped() || this.open.get(o.id) !== o || !this.opts.healthy(o.workload)) return;
    const since = this.quietSince(o.workload);
    if (since === undefined) return;
    // An occurrence since the timer was set (or a clock that ran slow): not quiet long enough yet.
    if (t - since < o.recoverAfterMs) {
      this.opts.timers.set(timerName(o.id), since + o.recoverAfterMs - t, () => void this.tryRecover(o));
      return;
    }
    try {
      if (await this.opts.store.recover(o.id, o.gen, t, t - since)) await this.opts.enqueue(o.id, false);
      this.untrack(o);
    } catch (err) {
      this.opts.log.warn({ incident: o.id, err }, 'could not mark an incident recovered; will try again');
      this.opts.timers.set(timerName(o.id), 5_000, () => void this.tryRecover(o));
    }
  }
}

const timerName = (id: string) => `recover:${id}`;
