/**
 * Memory samples from metrics.k8s.io, kept in Redis so any replica (and a new
 * leader) can chart the last hour: per pod, a list bounded to `maxSamples`
 * entries (`<ms>|<container>=<bytes>;…`, oldest trimmed), expiring `ttlMs`
 * after its last write; per cluster, what the last sampling round found (the
 * metrics API there, absent or refused). Keys sit under the hash-tagged prefix.
 */
import type { Redis } from 'ioredis';
import type { MemoryPoint } from './memory-chart.js';

export interface SampleStoreOptions {
  /** Entries kept per pod (default 120: an hour at one sample every 30 s). */
  maxSamples?: number;
  /** A pod's samples expire this long after the last (default 2 h). */
  ttlMs?: number;
}

export type MetricsApiState = { state: 'ok' | 'absent' | 'denied' | 'error'; at: number; message?: string };

/** One pod's containers at one time. */
export interface PodSample {
  pod: string;
  containers: ReadonlyArray<{ container: string; bytes: number }>;
}

/** `<ms>|<container>=<bytes>;…` (container names are DNS labels: no `|`, `=` or `;`). */
export function encodeSample(t: number, containers: PodSample['containers']): string {
  return `${Math.round(t)}|${containers.map((c) => `${c.container}=${Math.round(c.bytes)}`).join(';')}`;
}

/** The points of one container in encoded entries, oldest first; malformed entries are skipped. */
export function containerPoints(entries: readonly string[], container: string): MemoryPoint[] {
  const points: MemoryPoint[] = [];
  for (const entry of entries) {
    const [time, rest] = entry.split('|', 2);
    const t = Number(time);
    if (!Number.isFinite(t) || rest === undefined) continue;
    for (const part of rest.split(';')) {
      const eq = part.lastIndexOf('=');
      if (eq <= 0 || part.slice(0, eq) !== container) continue;
      const bytes = Number(part.slice(eq + 1));
      if (Number.isFinite(bytes) && bytes >= 0) points.push([t, bytes]);
    }
  }
  return points.sort((a, b) => a[0] - b[0]);
}

export class SampleStore {
  readonly maxSamples: number;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: SampleStoreOptions = {},
  ) {
    this.maxSamples = opts.maxSamples ?? 120;
    this.ttlMs = opts.ttlMs ?? 2 * 3_600_000;
  }

  private podKey(cluster: string, namespace: string, pod: string): string {
    return `${this.prefix}:chatops:memory:${cluster}:${namespace}:${pod}`;
  }

  private stateKey(cluster: string): string {
    return `${this.prefix}:chatops:memory-api:${cluster}`;
  }

  /** Appends one sample per pod (one round trip). */
  async append(cluster: string, namespace: string, t: number, pods: readonly PodSample[]): Promise<void> {
    if (pods.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const p of pods) {
      const key = this.podKey(cluster, namespace, p.pod);
      pipeline.rpush(key, encodeSample(t, p.containers));
      pipeline.ltrim(key, -this.maxSamples, -1);
      pipeline.pexpire(key, this.ttlMs);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  /** One container's points since `from` (ms), oldest first. */
  async read(cluster: string, namespace: string, pod: string, container: string, from = 0): Promise<MemoryPoint[]> {
    const entries = await this.redis.lrange(this.podKey(cluster, namespace, pod), 0, -1);
    return containerPoints(entries, container).filter(([t]) => t >= from);
  }

  async setApiState(cluster: string, state: MetricsApiState, ttlMs: number): Promise<void> {
    await this.redis.set(this.stateKey(cluster), JSON.stringify(state), 'PX', Math.max(1_000, Math.round(ttlMs)));
  }

  /** What the last sampling round of the cluster found; undefined when none ran lately. */
  async apiState(cluster: string): Promise<MetricsApiState | undefined> {
    const raw = await this.redis.get(this.stateKey(cluster));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as MetricsApiState;
    } catch {
      return undefined;
    }
  }
}
