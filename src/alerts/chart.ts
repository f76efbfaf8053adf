/**
 * The memory chart in an OOMKilled alert's thread, posted after the alert by
 * its own job (a `chart` job on the alerts queue, at a lower priority than
 * incidents): the container's working set over the last hour (or since the pod
 * started) from Prometheus when configured, else from the metrics.k8s.io
 * samples the leader keeps in Redis; with neither, a note on how to enable
 * charts. Whatever fails here is logged and leaves the alert as it is.
 */
import type { JobsOptions } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import { postCapacityChart, wantsCapacityChart } from './capacity-chart.js';
import { renderMemoryChart, type MemoryPoint } from '../charts/memory-chart.js';
import { PrometheusClient, resolveHeaders } from '../charts/prometheus.js';
import { SampleStore } from '../charts/samples.js';
import { MemorySampler } from '../charts/sampler.js';
import type { Config } from '../config/schema.js';
import type { Redis } from 'ioredis';
import type { ClusterClient } from '../kube/clusters.js';
import { memoryBytes } from '../kube/capacity.js';
import { podStartTime } from '../kube/metrics.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from '../slack/blocks.js';
import type { IncidentState, IncidentStore } from './incidents.js';
import type { RateLimit } from './ratelimit.js';
import type { WatchTarget } from './routes.js';

export const CHART_WINDOW_MS = 3_600_000;
/** files.getUploadURLExternal and files.completeUploadExternal are Tier 4: about 100 per minute per workspace. */
export const FILE_UPLOAD_LIMIT: RateLimit = { perSecond: 100 / 60, burst: 5 };

export interface ChartJob {
  type: 'chart';
  id: string;
  gen: number;
}

export interface ChartDeps {
  store: IncidentStore;
  /** The metrics.k8s.io samples (absent: not kept). */
  samples?: SampleStore;
  /** Set when `prometheus` is configured. */
  prometheus?: PrometheusClient;
  cluster(name: string): ClusterClient | undefined;
  slack: WebClient;
  /**
   * Makes a Slack call that posts in the channel: takes the channel's posting
   * token first and turns a 429 into a wait (either may throw to park the job).
   */
  send<T>(channel: string, method: string, call: () => Promise<T>): Promise<T>;
  log: Logger;
  now?: () => number;
}

/** Asks for the chart of an incident's generation, once (a second ask is ignored). */
export async function enqueueChart(
  queue: { add(name: string, data: ChartJob, opts: JobsOptions): Promise<unknown> },
  id: string,
  gen: number,
): Promise<void> {
  const job: ChartJob = { type: 'chart', id, gen };
  await queue.add('chart', job, { jobId: `chart-${id}-${gen}`, priority: 3, attempts: 1, removeOnComplete: true, removeOnFail: true });
}

/** Which incidents get a chart: OOMKilled ones, and Unschedulable ones short of CPU or memory on a small cluster. */
export const wantsChart = (s: Pick<IncidentState, 'kind' | 'head' | 'last'>): boolean =>
  s.kind === 'OOMKilled' || (s.kind === 'Unschedulable' && wantsCapacityChart((s.last ?? s.head).diagnosis));

export const HOW_TO_ENABLE_CHARTS =
  ':bar_chart: No memory chart: this cluster has no metrics API (metrics-server) the bot may read, and no `prometheus:` is configured. ' +
  'Install metrics-server (and grant the bot `list pods.metrics.k8s.io`, see deploy/kustomize), or set `prometheus: { url }` in the config, ' +
  'to get a chart of the container’s memory against its limit with each OOMKilled alert.';

/** The memory points and where they came from; a message instead when there is nothing to chart. */
async function memoryPoints(
  deps: ChartDeps,
  s: IncidentState,
  pod: string,
  container: string,
  from: number,
  to: number,
): Promise<{ points: MemoryPoint[]; source: string } | { note: SlackMessage } | undefined> {
  if (deps.prometheus) {
    const points = await deps.prometheus.workingSet(s.namespace, pod, container, from, to);
    return { points, source: 'Prometheus' };
  }
  const points = (await deps.samples?.read(s.cluster, s.namespace, pod, container, from)) ?? [];
  if (points.length > 0) return { points, source: 'metrics-server samples' };
  const state = await deps.samples?.apiState(s.cluster);
  if (!state || state.state === 'absent' || state.state === 'denied') return { note: { text: HOW_TO_ENABLE_CHARTS } };
  deps.log.info({ incident: s.id, pod, container, metricsApi: state.state }, 'no memory samples of this container yet: no chart');
  return undefined;
}

/**
 * Renders and posts the chart (or the how-to note) in the incident's thread.
 */
export async function postIncidentChart(deps: ChartDeps, job: ChartJob): Promise<void> {
  const log = deps.log;
  const s = await deps.store.load(job.id);
  if (!s?.ts || s.gen !== job.gen || !wantsChart(s)) return;
  if (s.kind === 'Unschedulable') return postCapacityChart(deps, { ...s, ts: s.ts });
  const d = s.head.diagnosis;
  if (d.kind !== 'OOMKilled') return;
  const now = deps.now ?? Date.now;
  const pod = s.head.pod;
  const container = d.container;
  const cluster = deps.cluster(s.cluster);
  const started = cluster ? await podStartTime(cluster, s.namespace, pod).catch(() => undefined) : undefined;
  const to = now();
  const from = Math.max(to - CHART_WINDOW_MS, started ?? 0);
  const data = await memoryPoints(deps, s, pod, container, from, to);
  if (!data) return;
  const ts = s.ts;
  if ('note' in data) {
    await deps.send(s.channel, 'chat.postMessage', () =>
      deps.slack.chat.postMessage({ channel: s.channel, thread_ts: ts, text: data.note.text, unfurl_links: false }),
    );
    return;
  }
  const kills = [s.head, s.last].filter((o) => o && o.pod === pod && o.diagnosis.kind === 'OOMKilled').map((o) => o!.at);
  const t0 = performance.now();
  const png = await renderMemoryChart({
    title: `${s.env} · ${s.workload.kind.toLowerCase()} ${s.workload.name} · memory`,
    subtitle: `pod ${pod} · container ${container}`,
    points: data.points,
    ...(d.limit ? { limitBytes: memoryBytes(d.limit) } : {}),
    ...(d.request ? { requestBytes: memoryBytes(d.request) } : {}),
    kills,
    from,
    to,
    source: data.source,
  });
  const renderMs = Math.round(performance.now() - t0);
  await deps.send(s.channel, 'files.completeUploadExternal', () =>
    deps.slack.filesUploadV2({
      channel_id: s.channel,
      thread_ts: ts,
      file: png,
      filename: `memory-${pod}-${container}.png`,
      title: `Memory of ${pod} / ${container}`,
    }),
  );
  log.info({ incident: s.id, points: data.points.length, renderMs, bytes: png.length }, 'posted the memory chart');
}

export interface ChartsSetup {
  /** For the delivery (every replica). */
  deps: Pick<ChartDeps, 'samples' | 'prometheus'>;
  /** The leader's sampler of a cluster; undefined when Prometheus is configured or no rule covers OOMKilled there. */
  sampler(cluster: ClusterClient, targets: readonly WatchTarget[]): MemorySampler | undefined;
}

/** Charts from the config: Prometheus when configured, else metrics.k8s.io samples kept by the leader. */
export function setUpCharts(opts: {
  config: Config;
  redis: Redis;
  prefix: string;
  log: Logger;
  sampleIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}): ChartsSetup {
  const samples = new SampleStore(opts.redis, opts.prefix);
  const p = opts.config.prometheus;
  if (p) {
    const { headers, missing } = resolveHeaders(p.headers, opts.env);
    if (missing.length > 0)
      opts.log.warn({ variables: missing }, 'prometheus.headers names environment variables that are not set: those headers are not sent');
    opts.log.info({ url: p.url, headers: Object.keys(headers) }, 'OOMKilled charts read Prometheus');
    return { deps: { prometheus: new PrometheusClient(p, headers) }, sampler: () => undefined };
  }
  return {
    deps: { samples },
    sampler: (cluster, targets) => {
      const namespaces = targets.filter((t) => t.routes.has('OOMKilled')).map((t) => t.namespace);
      if (namespaces.length === 0) return undefined;
      return new MemorySampler({
        cluster,
        namespaces,
        store: samples,
        log: opts.log.child({ component: 'memory-sampler', cluster: cluster.name }),
        ...(opts.sampleIntervalMs ? { intervalMs: opts.sampleIntervalMs } : {}),
      });
    },
  };
}

/** How long the Raise button's peak may take to read (a slow Prometheus then leaves the raise to the limit). */
const PEAK_TIMEOUT_MS = 2_000;

/**
 * The highest working set the charts' source saw for the container of the
 * incident's latest occurrence over the last hour (the Raise memory limit
 * button's basis); undefined when nothing measured it.
 */
export async function observedPeak(
  deps: Pick<ChartDeps, 'samples' | 'prometheus'>,
  s: Pick<IncidentState, 'cluster' | 'namespace' | 'head' | 'last'>,
  now = Date.now(),
): Promise<number | undefined> {
  const occ = s.last ?? s.head;
  if (occ.diagnosis.kind !== 'OOMKilled') return undefined;
  const container = occ.diagnosis.container;
  const from = now - CHART_WINDOW_MS;
  const read = deps.prometheus
    ? deps.prometheus.workingSet(s.namespace, occ.pod, container, from, now)
    : (deps.samples?.read(s.cluster, s.namespace, occ.pod, container, from) ?? Promise.resolve([]));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PEAK_TIMEOUT_MS} ms`)), PEAK_TIMEOUT_MS);
  });
  try {
    const points = await Promise.race([read, timeout]);
    return points.length > 0 ? Math.max(...points.map(([, v]) => v)) : undefined;
  } finally {
    clearTimeout(timer);
  }
}
