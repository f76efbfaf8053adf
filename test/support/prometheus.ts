/**
 * Prometheus HTTP API emulator: `/api/v1/query_range` (GET or form POST) over
 * series generated from the Kubernetes emulator's container runs (its memory
 * model, see kube/metrics.ts), as the kubelet's cAdvisor endpoint exposes them:
 * `container_memory_working_set_bytes{namespace, pod, container, node, id, name, ...}`,
 * one series per container instance, scraped every `scrapeIntervalMs`.
 *
 * Queries are plain selectors (`metric{label="v", label=~"re", label!="v", label!~"re"}`);
 * an unknown metric is an empty result, as in Prometheus. Refusals have
 * Prometheus's shapes: 400 `{"status":"error","errorType":"bad_data","error":…}`
 * for a bad query or bad start/end/step, too many points per series, 405 for
 * other methods, 404 for other paths; with `requireHeaders`, 401 without them
 * (as an authenticating proxy in front of Prometheus answers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerRun } from './kube/metrics.js';
import { runMemory } from './kube/metrics.js';

export const WORKING_SET = 'container_memory_working_set_bytes';
const LOOKBACK_MS = 5 * 60_000;
const MAX_POINTS = 11_000;

export interface PrometheusEmulatorOptions {
  /** The container runs to expose (e.g. `() => kube.metrics.allRuns()`). */
  runs: () => ContainerRun[];
  scrapeIntervalMs?: number;
  /** Headers every request must carry (e.g. an Authorization); others get 401. */
  requireHeaders?: Record<string, string>;
}

export interface PrometheusRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface PrometheusEmulator {
  url: string;
  requests: PrometheusRequest[];
  close(): Promise<void>;
}

type Matcher = { label: string; op: '=' | '!=' | '=~' | '!~'; value: string };

class BadData extends Error {}

/** Parses a selector the way PromQL does for what it supports; throws BadData with a Prometheus-like message. */
export function parseSelector(query: string): { metric?: string; matchers: Matcher[] } {
  const text = query.trim();
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?$/s.exec(text);
  if (!text || !m || (!m[1] && m[2] === undefined))
    throw new BadData(`1:1: parse error: unexpected input in selector ${JSON.stringify(query)}`);
  const matchers: Matcher[] = [];
  let rest = (m[2] ?? '').trim();
  while (rest.length > 0) {
    const mm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,\s*|$)/.exec(rest);
    if (!mm)
      throw new BadData(`1:${text.length - rest.length + 1}: parse error: unexpected character inside braces: ${JSON.stringify(rest[0])}`);
    const value = JSON.parse(`"${mm[3]!}"`) as string;
    if (mm[2] === '=~' || mm[2] === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        throw new BadData(`1:1: parse error: error parsing regexp: invalid regular expression ${JSON.stringify(value)}`);
      }
    }
    matchers.push({ label: mm[1]!, op: mm[2] as Matcher['op'], value });
    rest = rest.slice(mm[0].length);
  }
  if (!m[1] && !matchers.some((x) => (x.op === '=' || x.op === '=~') && !new RegExp(`^(?:${x.value})$`).test(''))) {
    throw new BadData('vector selector must contain at least one non-empty matcher');
  }
  return { ...(m[1] ? { metric: m[1] } : {}), matchers };
}

function matches(labels: Record<string, string>, ms: readonly Matcher[]): boolean {
  return ms.every(({ label, op, value }) => {
    const v = labels[label] ?? '';
    switch (op) {
      case '=':
        return v === value;
      case '!=':
        return v !== value;
      case '=~':
        return new RegExp(`^(?:${value})$`).test(v);
      case '!~':
        return !new RegExp(`^(?:${value})$`).test(v);
    }
  });
}

/** A timestamp as Prometheus accepts it: RFC 3339 or Unix seconds (float). */
function parseTime(name: string, raw: string | undefined): number {
  const text = raw ?? '';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const t = /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) throw new BadData(`invalid parameter "${name}": cannot parse ${JSON.stringify(text)} to a valid timestamp`);
  return t;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** A step: seconds (float) or a Prometheus duration (`15s`, `1m30s`). */
function parseStep(raw: string | undefined): number {
  const text = raw ?? '';
  let ms: number;
  if (/^-?\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) {
    ms = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)].reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  } else throw new BadData(`invalid parameter "step": cannot parse ${JSON.stringify(text)} to a valid duration`);
  if (ms <= 0)
    throw new BadData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  return ms;
}

function seriesLabels(run: ContainerRun): Record<string, string> {
  const id = run.containerID.replace(/^[a-z]+:\/\//, '');
  return {
    __name__: WORKING_SET,
    container: run.container,
    id: `/kubepods/burstable/pod-${run.namespace}-${run.pod}/${id}`,
    instance: run.node,
    job: 'kubelet',
    metrics_path: '/metrics/cadvisor',
    name: id,
    namespace: run.namespace,
    node: run.node,
    pod: run.pod,
  };
}

export function queryRange(
  runs: readonly ContainerRun[],
  params: Record<string, string>,
  scrapeMs: number,
): { resultType: 'matrix'; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } {
  if (params.query === undefined || params.query === '')
    throw new BadData('invalid parameter "query": unknown position: parse error: no expression found in input');
  const start = parseTime('start', params.start);
  const end = parseTime('end', params.end);
  if (end < start) throw new BadData('invalid parameter "end": end timestamp must not be before start time');
  const step = parseStep(params.step);
  if ((end - start) / step > MAX_POINTS)
    throw new BadData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  let selector: ReturnType<typeof parseSelector>;
  try {
    selector = parseSelector(params.query);
  } catch (err) {
    throw new BadData(`invalid parameter "query": ${(err as Error).message}`);
  }
  const all = selector.metric ? [...selector.matchers, { label: '__name__', op: '=' as const, value: selector.metric }] : selector.matchers;
  const result = [];
  for (const run of runs) {
    const metric = seriesLabels(run);
    if (!matches(metric, all)) continue;
    const values: Array<[number, string]> = [];
    for (let t = start; t <= end; t += step) {
      // The latest scrape at or before t, within the look-back; none after the series ended (stale).
      const scrape = Math.floor(t / scrapeMs) * scrapeMs;
      if (t - scrape > LOOKBACK_MS || scrape < run.start || (run.end !== undefined && scrape > run.end)) continue;
      const v = runMemory(run, scrape);
      if (v !== undefined) values.push([t / 1000, String(Math.round(v))]);
    }
    if (values.length > 0) result.push({ metric, values });
  }
  return { resultType: 'matrix', result };
}

export async function startPrometheusEmulator(opts: PrometheusEmulatorOptions): Promise<PrometheusEmulator> {
  const requests: PrometheusRequest[] = [];
  const scrapeMs = opts.scrapeIntervalMs ?? 1_000;
  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://prometheus');
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        Object.assign(params, Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
      requests.push({ method: req.method ?? 'GET', path: url.pathname, params, headers: req.headers });
      for (const [name, value] of Object.entries(opts.requireHeaders ?? {})) {
        if (req.headers[name.toLowerCase()] !== value) {
          res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('Unauthorized\n');
          return;
        }
      }
      if (url.pathname !== '/api/v1/query_range') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'POST') {
        send(res, 405, { status: 'error', errorType: 'bad_data', error: 'method not allowed' });
        return;
      }
      try {
        send(res, 200, { status: 'success', data: queryRange(opts.runs(), params, scrapeMs) });
      } catch (err) {
        if (!(err instanceof BadData)) throw err;
        send(res, 400, { status: 'error', errorType: 'bad_data', error: err.message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
