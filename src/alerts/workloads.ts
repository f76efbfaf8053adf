/** Which watched pods belong to which workload: kept current from the pod watch, empty entries removed. */
import type { V1Pod } from '@kubernetes/client-node';
import { workloadOf, type CronJobOf, type WorkloadRef } from './detect.js';

export const podKey = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;
export const workloadKey = (ns: string, w: WorkloadRef): string => `${ns}/${w.kind}/${w.name}`;

export class WorkloadIndex {
  private readonly podsByWorkload = new Map<string, Set<string>>();
  private readonly workloadOfPod = new Map<string, string>();

  constructor(private readonly cronJobOf?: CronJobOf) {}

  /** Records the pod under its workload; returns the workload key. */
  add(key: string, pod: V1Pod): string {
    const workload = workloadKey(pod.metadata?.namespace ?? '', workloadOf(pod, this.cronJobOf));
    const before = this.workloadOfPod.get(key);
    if (before !== workload) {
      if (before) this.removeFrom(before, key);
      this.workloadOfPod.set(key, workload);
      const set = this.podsByWorkload.get(workload) ?? new Set<string>();
      set.add(key);
      this.podsByWorkload.set(workload, set);
    }
    return workload;
  }

  /** Forgets the pod; returns the workload it belonged to. */
  remove(key: string): string | undefined {
    const workload = this.workloadOfPod.get(key);
    this.workloadOfPod.delete(key);
    if (workload) this.removeFrom(workload, key);
    return workload;
  }

  pods(workload: string): ReadonlySet<string> {
    return this.podsByWorkload.get(workload) ?? new Set();
  }

  get workloadCount(): number {
    return this.podsByWorkload.size;
  }

  private removeFrom(workload: string, key: string): void {
    const set = this.podsByWorkload.get(workload);
    set?.delete(key);
    if (set?.size === 0) this.podsByWorkload.delete(workload);
  }
}
