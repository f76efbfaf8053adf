/**
 * OOMKilled charts, beside DESIGN.md's targets:
 * - render: an hour of samples (240 points, limit, request, 3 kills) → PNG in the chart worker, p50/p99
 *   wall time per chart (≤ 200 ms), and how long the event loop was held meanwhile (it should not be);
 * - the same for the Unschedulable capacity chart at its largest (30 nodes);
 * - the alert's own latency, OOM kill → the alert's chat.postMessage, with charts on and off (the same
 *   load: one new incident every 250 ms over 5 channels, each followed by its chart when on).
 * Run: npx tsx bench/charts.ts   (REDIS_URL as for tests; BENCH_SECONDS scales the latency runs, default 8)
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebClient } from '@slack/web-api';
import { startAlerts } from '../src/alerts/index.js';
import { CAPACITY_CHART_MAX_NODES, CAPACITY_CHART_SIZE, renderCapacityChart, type CapacityNode } from '../src/charts/capacity-chart.js';
import { renderMemoryChart, type MemoryPoint } from '../src/charts/memory-chart.js';
import { IntentStore } from '../src/command/intents.js';
import { parseConfig } from '../src/config/load.js';
import { Clusters } from '../src/kube/clusters.js';
import { createLogger } from '../src/log.js';
import { createRedis } from '../src/queue/redis.js';
import { deployment as workload } from '../test/e2e/alerts-fixtures.js';
import { BOT_TOKEN } from '../test/support/harness.js';
import { startKubeEmulator } from '../test/support/kube/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../test/support/redis.js';
import { startSlackEmulator } from '../test/support/slack/index.js';
import { benchSeconds, ms, row, summarize } from './lib.js';

const Mi = 2 ** 20;

/** Wall time per chart (round trip to the chart worker), event-loop delay meanwhile and CPU per render. */
async function timeRenders(title: string, renders: number, render: () => Promise<Buffer>): Promise<string[]> {
  await render(); // the worker's start (loading ECharts) is not a chart's time
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu = process.cpuUsage();
  for (let i = 0; i < renders; i++) {
    const t0 = performance.now();
    await render();
    times.push(performance.now() - t0);
  }
  const used = process.cpuUsage(cpu);
  loop.disable();
  const s = summarize(times);
  return [
    `${title}, n=${s.n}`,
    row('render time (wall, round trip to the worker)', `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`, '≤ 200 ms', s.p99 <= 200),
    row(
      'event loop held during renders',
      `p99 ${ms(loop.percentile(99) / 1e6)}  max ${ms(loop.max / 1e6)}`,
      'free (ms, not the render time)',
      loop.percentile(99) / 1e6 < 50,
    ),
    `      process CPU (all threads) per render: ${ms((used.user + used.system) / 1000 / renders)}`,
  ];
}

export async function benchChartRender(renders = 40): Promise<string[]> {
  const to = Date.now();
  const from = to - 3_600_000;
  const points: MemoryPoint[] = [];
  for (let t = from; t <= to; t += 15_000) points.push([t, 128 * Mi + (((t - from) % 1_200_000) / 1_200_000) * 128 * Mi]);
  const input = {
    title: 'beta · deployment web · memory',
    subtitle: 'pod web-5d8f9c7b6-abcde · container app',
    points,
    limitBytes: 256 * Mi,
    requestBytes: 128 * Mi,
    kills: [from + 1_200_000, from + 2_400_000, to],
    from,
    to,
    source: 'Prometheus',
  };
  return timeRenders('chart render: 240 points, limit, request, 3 kills → 960×480 PNG in the chart worker', renders, () =>
    renderMemoryChart(input),
  );
}

/** The Unschedulable chart at its largest: CAPACITY_CHART_MAX_NODES nodes, two panels. */
export async function benchCapacityChartRender(renders = 40): Promise<string[]> {
  const nodes: CapacityNode[] = Array.from({ length: CAPACITY_CHART_MAX_NODES }, (_, i) => ({
    name: `node-${String(i).padStart(2, '0')}.eu-west-1.compute.internal`,
    requested: { cpuMillis: 500 + (i % 7) * 450, memoryBytes: (1 + (i % 5)) * 1024 * Mi },
    allocatable: { cpuMillis: 4_000, memoryBytes: 8 * 1024 * Mi },
    usable: i % 9 !== 0,
  }));
  const input = {
    title: 'beta · deployment web · node capacity',
    subtitle: 'pending pod web-5d8f9c7b6-abcde asks 2 CPU, 4Gi memory',
    nodes,
    pod: { cpuMillis: 2_000, memoryBytes: 4 * 1024 * Mi },
  };
  return timeRenders(
    `capacity chart render: ${nodes.length} nodes, CPU and memory panels → ${CAPACITY_CHART_SIZE.width}×${CAPACITY_CHART_SIZE.height} PNG in the chart worker`,
    renders,
    () => renderCapacityChart(input),
  );
}

/** One alerts role against fresh emulators; kills one new workload every 250 ms over 5 channels. */
async function alertLatency(charts: boolean, seconds: number): Promise<{ latencies: number[]; charted: number }> {
  const CHANNELS = 5;
  const samples = Math.max(CHANNELS, Math.round(seconds * 4));
  const perNs = Math.ceil(samples / CHANNELS);
  const envs = Array.from({ length: CHANNELS }, (_, i) => `b${i}`);
  const kube = await startKubeEmulator({ namespaces: ['default', ...envs] });
  const slack = await startSlackEmulator({ botToken: BOT_TOKEN });
  const dir = await mkdtemp(join(tmpdir(), 'bench-charts-'));
  const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'));
  const yaml = `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments:
${envs.map((e) => `  ${e}: { cluster: default, namespace: ${e} }`).join('\n')}
alerts:
${envs.map((e, i) => `  - { environments: [${e}], channel: C0BENCH${i}, on: [OOMKilled] }`).join('\n')}
`;
  const file = join(dir, 'chatops.yaml');
  await writeFile(file, yaml);
  const config = parseConfig(yaml, file);
  const prefix = freshPrefix(`bench-charts-${charts ? 'on' : 'off'}`);
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const running = await startAlerts({
    config,
    clusters: new Clusters(config, file),
    slack: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url }),
    redis,
    connection,
    intents: new IntentStore(redis, prefix, testSigner()),
    prefix,
    signer: testSigner(),
    log: createLogger('silent'),
    options: { leaseNamespace: 'default', charts, memorySampleIntervalMs: 1_000 },
  });
  try {
    await running.whenWatching();
    for (const ns of envs)
      for (let d = 0; d < perNs; d++)
        kube.create(workload(ns, `svc-${d}`, { requests: { cpu: '1m', memory: '64Mi' }, limits: { memory: '256Mi' } }));
    const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    await kube.waitFor(() => envs.every((ns) => kube.list('v1', 'Pod', ns).filter(ready).length === perNs), 30_000, 'pods ready');
    const latencies: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < samples; i++) {
      const ns = envs[i % CHANNELS]!;
      const name = `svc-${Math.floor(i / CHANNELS)}`;
      const pod = kube.list('v1', 'Pod', ns).find((p) => p.metadata.labels.app === name)!;
      const changed = Date.now();
      kube.oomKill(ns, pod.metadata.name);
      waits.push(
        slack
          .waitForCall(
            (c) =>
              c.method === 'chat.postMessage' &&
              !c.args.thread_ts &&
              c.args.channel === `C0BENCH${i % CHANNELS}` &&
              String(c.args.text).includes(`deployment ${name} · ${ns}`),
            15_000,
          )
          .then((c) => void latencies.push(c.at - changed)),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(waits);
    if (charts) await slack.waitForCall(() => slack.uploads.length >= samples, 20_000).catch(() => undefined);
    return { latencies, charted: slack.uploads.length };
  } finally {
    await running.stop();
    redis.disconnect();
    connection.disconnect();
    await slack.close();
    await kube.close();
    await deletePrefix(prefix);
  }
}

export async function benchChartAlertLatency(seconds = benchSeconds(8)): Promise<string[]> {
  const off = await alertLatency(false, seconds);
  const on = await alertLatency(true, seconds);
  const a = summarize(off.latencies);
  const b = summarize(on.latencies);
  return [
    `alert latency with charts off and on (OOM kill → the alert's chat.postMessage; on: ${on.charted} charts posted after their alerts), n=${b.n}`,
    row('charts off', `p50 ${ms(a.p50)}  p99 ${ms(a.p99)}  max ${ms(a.max)}`, 'p99 ≤ 1 s', a.p99 <= 1_000),
    row(
      'charts on',
      `p50 ${ms(b.p50)}  p99 ${ms(b.p99)}  max ${ms(b.max)}`,
      'p99 ≤ 1 s, ≈ off',
      b.p99 <= 1_000 && b.p99 <= a.p99 * 1.5 + 50,
    ),
  ];
}

export async function benchCharts(): Promise<string[]> {
  return [...(await benchChartRender()), ...(await benchCapacityChartRender()), ...(await benchChartAlertLatency())];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchCharts()) console.log(line);
  process.exit(0);
}
