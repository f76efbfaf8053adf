/**
 * Memory from Prometheus: `container_memory_working_set_bytes` (the kubelet's
 * cAdvisor metric, what the OOM killer compares with the limit) for one
 * container, through `/api/v1/query_range`. The step spreads
 * `POINTS_PER_CHART` points over the window (15 s for an hour), at least 0.1 s.
 * Header values (which may be credentials) never reach a log or a message.
 */
import type { PrometheusConfig } from '../config/schema.js';
import type { MemoryPoint } from './memory-chart.js';

export const WORKING_SET_METRIC = 'container_memory_working_set_bytes';
export const POINTS_PER_CHART = 240;

/** A PromQL string literal. */
function literal(value: string): string {
  return JSON.stringify(value);
}

/** The query for one container: `container_memory_working_set_bytes{namespace="…",pod="…",container="…"}`. */
export function workingSetQuery(namespace: string, pod: string, container: string): string {
  return `${WORKING_SET_METRIC}{namespace=${literal(namespace)},pod=${literal(pod)},container=${literal(container)}}`;
}

/** Seconds between points: the window over POINTS_PER_CHART (15 s for an hour), to the millisecond, at least 0.1 s. */
export function stepSeconds(fromMs: number, toMs: number): number {
  return Math.max(0.1, Math.ceil((toMs - fromMs) / POINTS_PER_CHART) / 1000);
}

export interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/**
 * The matrix as one line: cAdvisor starts a new series for each container
 * instance (a restart after a kill changes `id`), so the series are merged in
 * time order; where two have a point at the same time, the larger counts.
 */
export function matrixPoints(result: readonly MatrixSeries[]): MemoryPoint[] {
  const byTime = new Map<number, number>();
  for (const series of result) {
    for (const [seconds, raw] of series.values) {
      const t = Math.round(seconds * 1000);
      const v = Number(raw);
      if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
      byTime.set(t, Math.max(v, byTime.get(t) ?? -Infinity));
    }
  }
  return [...byTime].sort((a, b) => a[0] - b[0]);
}

export class PrometheusError extends Error {}

/** The configured headers, values from the environment where asked; a missing variable is left out and named. */
export function resolveHeaders(
  headers: PrometheusConfig['headers'],
  env: NodeJS.ProcessEnv = process.env,
): { headers: Record<string, string>; missing: string[] } {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name] = value;
    else if (env[value.env] !== undefined) out[name] = env[value.env]!;
    else missing.push(value.env);
  }
  return { headers: out, missing };
}

export class PrometheusClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly config: PrometheusConfig,
    headers: Record<string, string>,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.base = config.url.replace(/\/+$/, '');
    this.headers = headers;
  }

  /** Where queries go (no credentials: the URL is from the config, headers are not shown). */
  get url(): string {
    return this.base;
  }

  /** One container's working set over [from, to] (ms); throws PrometheusError with Prometheus's own error text. */
  async workingSet(namespace: string, pod: string, container: string, from: number, to: number): Promise<MemoryPoint[]> {
    const body = new URLSearchParams({
      query: workingSetQuery(namespace, pod, container),
      start: (from / 1000).toFixed(3),
      end: (to / 1000).toFixed(3),
      step: String(stepSeconds(from, to)),
    });
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}/api/v1/query_range`, {
        method: 'POST',
        headers: { ...this.headers, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: body.toString(),
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new PrometheusError(`cannot reach Prometheus at ${this.base} (${e.cause?.code ?? e.name})`);
    }
    const text = await res.text();
    let json: { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: MatrixSeries[] } };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new PrometheusError(`Prometheus at ${this.base} answered HTTP ${res.status} without JSON`);
    }
    if (!res.ok || json.status !== 'success') {
      throw new PrometheusError(`Prometheus answered HTTP ${res.status}: ${json.errorType ?? 'error'}: ${json.error ?? 'no reason given'}`);
    }
    if (json.data?.resultType !== 'matrix' || !Array.isArray(json.data.result)) {
      throw new PrometheusError(`Prometheus answered a ${json.data?.resultType ?? 'missing'} result, not a matrix`);
    }
    return matrixPoints(json.data.result);
  }
}
