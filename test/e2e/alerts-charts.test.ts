import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlerts, type RunningAlerts } from '../../src/alerts/index.js';
import { CAPACITY_CHART_COLORS, CAPACITY_CHART_PANELS, CAPACITY_CHART_SIZE, capacityRowOf } from '../../src/charts/capacity-chart.js';
import { MEMORY_CHART_COLORS, MEMORY_CHART_GRID, MEMORY_CHART_SIZE } from '../../src/charts/memory-chart.js';
import { parseConfig } from '../../src/config/load.js';
import { Clusters } from '../../src/kube/clusters.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/queue/redis.js';
import { IntentStore } from '../../src/command/intents.js';
import { BOT_TOKEN } from '../support/harness.js';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';
import { decodePng, inkShare, rowsWithLine, type Picture } from '../support/png.js';
import { startPrometheusEmulator, type PrometheusEmulator } from '../support/prometheus.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, testSigner } from '../support/redis.js';
import { startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';
import { deployment, ONCALL, podsOf, runningDeployment, waitForAlert, waitForThreadReply } from './alerts-fixtures.js';

const Mi = 2 ** 20;
let kube: KubeEmulator;
let slack: SlackEmulator;
let prom: PrometheusEmulator;
let dir: string;
let kubeconfig: string;
const prefixes: string[] = [];
const connections: Redis[] = [];
const running: RunningAlerts[] = [];

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'charts-m', 'charts-p', 'charts-n', 'charts-u'] });
  slack = await startSlackEmulator({ botToken: BOT_TOKEN });
  prom = await startPrometheusEmulator({
    runs: () => kube.metrics.allRuns(),
    scrapeIntervalMs: 50,
    requireHeaders: { Authorization: 'Bearer prom-token' },
  });
  dir = await mkdtemp(join(tmpdir(), 'chatops-alerts-charts-'));
  kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'));
});
afterAll(async () => {
  for (const r of running) await r.stop();
  connections.forEach((c) => c.disconnect());
  await prom?.close();
  await slack?.close();
  await kube?.close();
  for (const p of prefixes) await deletePrefix(p);
});

/**
 * The alerts role alone, as `--role alerts` runs it, sampling metrics.k8s.io every 100 ms,
 * for OOMKilled in its own namespace (so no test sees another's kills).
 */
async function alertsRole(name: string, namespace: string, extraConfig = '', rule = 'on: [OOMKilled]'): Promise<RunningAlerts> {
  const file = join(dir, `${name}.yaml`);
  const yaml = `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: ${namespace} }
alerts:
  - { environments: [beta], channel: ${ONCALL}, ${rule} }
${extraConfig}`;
  await writeFile(file, yaml);
  const config = parseConfig(yaml, file);
  const prefix = freshPrefix(`alerts-charts-${name}`);
  prefixes.push(prefix);
  const redis = createRedis(TEST_REDIS_URL, 'producer');
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  connections.push(redis, connection);
  const r = await startAlerts({
    config,
    clusters: new Clusters(config, file),
    slack: new WebClient(BOT_TOKEN, { slackApiUrl: slack.url }),
    redis,
    connection,
    intents: new IntentStore(redis, prefix, testSigner()),
    prefix,
    signer: testSigner(),
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    options: { identity: name, leaseNamespace: 'default', leaseName: `charts-${name}`, memorySampleIntervalMs: 100 },
  });
  running.push(r);
  await r.whenWatching();
  return r;
}

const plot = {
  x0: MEMORY_CHART_GRID.left,
  x1: MEMORY_CHART_SIZE.width - MEMORY_CHART_GRID.right,
  y0: MEMORY_CHART_GRID.top,
  y1: MEMORY_CHART_SIZE.height - MEMORY_CHART_GRID.bottom,
};
/** The documented scale: 0 at the bottom, 1.25 × the largest of limit (256 Mi), request and peak at the top. */
const rowOf = (bytes: number) => plot.y0 + (plot.y1 - plot.y0) * (1 - bytes / (1.25 * 256 * Mi));

/** Waits for the PNG shared in the alert's thread and decodes it. */
async function chartIn(alertTs: string): Promise<{ picture: Picture; uploadSeq: number }> {
  const call = await slack.waitForCall((c) => c.method === 'files.completeUploadExternal' && c.ok && c.args.thread_ts === alertTs, 10_000);
  const upload = slack.uploads.find((u) => u.threadTs === alertTs);
  expect(upload?.filename).toMatch(/^memory-.*-app\.png$/);
  if (process.env.CHART_DUMP) (await import('node:fs')).writeFileSync(`/tmp/charts-proto/${alertTs}.png`, upload!.bytes);
  return { picture: decodePng(upload!.bytes), uploadSeq: call.seq };
}

function expectMemoryChart(picture: Picture): void {
  expect([picture.width, picture.height]).toEqual([MEMORY_CHART_SIZE.width, MEMORY_CHART_SIZE.height]);
  expect(inkShare(picture)).toBeGreaterThan(0.03);
  // The limit line, where 256 Mi is on the documented scale.
  const limitRows = rowsWithLine(picture, MEMORY_CHART_COLORS.limit, plot.x0 + 2, plot.x1 - 2, 0.9);
  expect(limitRows.length).toBeGreaterThan(0);
  for (const y of limitRows) expect(Math.abs(y - rowOf(256 * Mi))).toBeLessThanOrEqual(1.5);
  // The working set climbed well above the request (128 Mi) before the kill.
  const usageRows = rowsWithLine(picture, MEMORY_CHART_COLORS.usage, plot.x0 + 2, plot.x1 - 2, 0.002, 60);
  expect(Math.min(...usageRows)).toBeLessThan(rowOf(200 * Mi));
}

const RESOURCES = { requests: { cpu: '10m', memory: '128Mi' }, limits: { memory: '256Mi' } };

describe('a memory chart on every OOMKilled alert', () => {
  it('from metrics.k8s.io samples: the alert first, then the PNG in its thread with the limit where it belongs', async () => {
    const NS = 'charts-m';
    const role = await alertsRole('metrics', NS);
    const [pod] = await runningDeployment(kube, NS, 'leaky', RESOURCES);
    const name: string = pod.metadata.name;
    const listed = () => kube.requests.filter((r) => r.path === `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`).length;
    const before = listed();
    await expect.poll(listed, { timeout: 5_000 }).toBeGreaterThan(before + 1);
    expect(await kube.oomKillAfterRise(NS, name, 800, { restartAfterMs: 100 })).toBe(true);
    const alert = await waitForAlert(slack, /OOMKilled · deployment leaky · beta/);
    const alertCall = slack.calls.find((c) => c.method === 'chat.postMessage' && c.response?.ts === alert.ts)!;
    const { picture, uploadSeq } = await chartIn(alert.ts);
    expect(uploadSeq).toBeGreaterThan(alertCall.seq);
    expectMemoryChart(picture);
    await role.stop();
  });

  it('from Prometheus when configured, with the configured headers', async () => {
    const NS = 'charts-p';
    process.env.CHATOPS_TEST_PROM_AUTH = 'Bearer prom-token';
    const sampled = () => kube.requests.filter((r) => r.path.includes('metrics.k8s.io')).length;
    const sampledBefore = sampled();
    const role = await alertsRole(
      'prometheus',
      NS,
      `prometheus:\n  url: ${prom.url}\n  headers: { Authorization: { env: CHATOPS_TEST_PROM_AUTH } }\n`,
    );
    const [pod] = await runningDeployment(kube, NS, 'leaky-prom', RESOURCES);
    const name: string = pod.metadata.name;
    expect(await kube.oomKillAfterRise(NS, name, 800, { restartAfterMs: 100 })).toBe(true);
    const alert = await waitForAlert(slack, /OOMKilled · deployment leaky-prom · beta/);
    const { picture } = await chartIn(alert.ts);
    expectMemoryChart(picture);
    const q = prom.requests.find((r) => r.params.query?.includes(name));
    expect(q?.path).toBe('/api/v1/query_range');
    expect(q?.params.query).toBe(`container_memory_working_set_bytes{namespace="${NS}",pod="${name}",container="app"}`);
    expect(q?.headers.authorization).toBe('Bearer prom-token');
    // The leader does not sample metrics.k8s.io when Prometheus has the data.
    expect(sampled()).toBe(sampledBefore);
    await role.stop();
  });

  it('with neither, says in the thread how to enable charts', async () => {
    const NS = 'charts-n';
    kube.setMetricsServer(false);
    try {
      const role = await alertsRole('neither', NS);
      const [pod] = await runningDeployment(kube, NS, 'leaky-none', RESOURCES);
      kube.oomKill(NS, pod.metadata.name);
      const alert = await waitForAlert(slack, /OOMKilled · deployment leaky-none · beta/);
      await waitForThreadReply(slack, alert.ts, /No memory chart: .*metrics-server.*`prometheus: \{ url \}`/);
      expect(slack.uploads.filter((u) => u.threadTs === alert.ts)).toEqual([]);
      await role.stop();
    } finally {
      kube.setMetricsServer(true);
    }
  });
});

describe('a node-capacity chart on an Unschedulable alert short of memory', () => {
  it('shares a PNG in its thread with the pod’s request marked above allocatable', async () => {
    const NS = 'charts-u';
    const role = await alertsRole('capacity', NS, '', 'on: [Unschedulable], pendingFor: 300ms');
    // The emulator's 3 nodes have 8Gi each: 10Gi fits none.
    kube.create(deployment(NS, 'hungry', { requests: { cpu: '10m', memory: '10Gi' } }));
    await kube.waitFor(
      () => podsOf(kube, NS, 'hungry').find((p) => p.status?.conditions?.some((c: any) => c.reason === 'Unschedulable')),
      5_000,
      'an unschedulable pod',
    );
    const alert = await waitForAlert(slack, /Unschedulable · deployment hungry · beta/);
    const alertCall = slack.calls.find((c) => c.method === 'chat.postMessage' && c.response?.ts === alert.ts)!;
    const call = await slack.waitForCall(
      (c) => c.method === 'files.completeUploadExternal' && c.ok && c.args.thread_ts === alert.ts,
      10_000,
    );
    expect(call.seq).toBeGreaterThan(alertCall.seq);
    const upload = slack.uploads.find((u) => u.threadTs === alert.ts);
    expect(upload?.filename).toMatch(/^capacity-hungry-.*\.png$/);
    const picture = decodePng(upload!.bytes);
    expect([picture.width, picture.height]).toEqual([CAPACITY_CHART_SIZE.width, CAPACITY_CHART_SIZE.height]);
    expect(inkShare(picture)).toBeGreaterThan(0.03);
    // Each node's mark: its requests (a few small pods of the other tests at most) plus 10Gi of 8Gi,
    // i.e. 125 % to ~130 %, on an axis topped at 150 %.
    const m = CAPACITY_CHART_PANELS.memory;
    const marks = rowsWithLine(picture, CAPACITY_CHART_COLORS.pod, m.left, m.left + m.width, 0.15, 60);
    expect(marks.length).toBeGreaterThan(0);
    for (const y of marks) {
      expect(y).toBeGreaterThanOrEqual(capacityRowOf(131, 150) - 2);
      expect(y).toBeLessThanOrEqual(capacityRowOf(125, 150) + 2);
    }
    await role.stop();
  });
});
