/**
 * The alerts leader samples metrics.k8s.io for the namespaces whose alert
 * rules cover OOMKilled: every `intervalMs`, one `list` of pod metrics per
 * namespace, appended to the Redis ring buffers (samples.ts). It also records
 * whether the metrics API answered, so the chart can say how to enable it.
 * Failures are logged (once per change of state) and never stop the loop.
 */
import type { ClusterClient } from '../kube/clusters.js';
import { listPodMemory, type PodMemoryResult } from '../kube/metrics.js';
import type { Logger } from '../log.js';
import type { MetricsApiState, PodSample, SampleStore } from './samples.js';

export interface SamplerOptions {
  cluster: ClusterClient;
  namespaces: readonly string[];
  store: SampleStore;
  log: Logger;
  /** Default 30 s. */
  intervalMs?: number;
  /** Pods sampled per namespace and round at most (default 5,000): bounds Redis memory on big clusters. */
  maxPods?: number;
  now?: () => number;
}

/** Groups a metrics list into one sample per pod (at most `maxPods`). */
export function podSamples(result: Extract<PodMemoryResult, { ok: true }>, maxPods: number): PodSample[] {
  const byPod = new Map<string, Array<{ container: string; bytes: number }>>();
  for (const c of result.containers) {
    let list = byPod.get(c.pod);
    if (!list) {
      if (byPod.size >= maxPods) continue;
      byPod.set(c.pod, (list = []));
    }
    list.push({ container: c.container, bytes: c.bytes });
  }
  return [...byPod].map(([pod, containers]) => ({ pod, containers }));
}

export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastState: MetricsApiState['state'] | undefined;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SamplerOptions) {
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.opts.namespaces.length === 0 || this.timer || this.stopped) return;
    const tick = () => {
      this.round = this.sample().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One round: every namespace, then the API state. */
  async sample(): Promise<void> {
    const { cluster, store, log } = this.opts;
    let state: MetricsApiState = { state: 'ok', at: this.now() };
    for (const namespace of this.opts.namespaces) {
      if (this.stopped) return;
      const result = await listPodMemory(cluster, namespace);
      if (!result.ok) {
        state = { state: result.why, at: this.now(), message: result.message };
        // Absent or refused in one namespace: the same for the others (refusals are per namespace, but rare).
        if (result.why !== 'error') break;
        continue;
      }
      try {
        await store.append(cluster.name, namespace, this.now(), podSamples(result, this.opts.maxPods ?? 5_000));
      } catch (err) {
        log.warn({ err, namespace }, 'could not store memory samples');
      }
    }
    if (state.state !== this.lastState) {
      if (state.state === 'ok')
        log.info({ namespaces: this.opts.namespaces }, 'sampling memory from metrics.k8s.io for the OOMKilled charts');
      else
        log.warn(
          { state: state.state, reason: state.message },
          'no memory samples from metrics.k8s.io: OOMKilled alerts chart only with Prometheus',
        );
      this.lastState = state.state;
    }
    await store.setApiState(cluster.name, state, Math.max(5 * 60_000, 4 * this.intervalMs)).catch((err: unknown) => {
      log.warn({ err }, 'could not record the metrics API state');
    });
  }
}
