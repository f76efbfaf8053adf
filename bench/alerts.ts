/**
 * On-call alerts, beside DESIGN.md's targets:
 * - latency: pod status change (an OOM kill in the emulator) → the alert's chat.postMessage, p50/p99 (≤ 1 s);
 * - storm: 1,000 OOM kills over 10 deployments → ≤ 10 top-level messages, every kill counted, the channel's
 *   rate (1 message/s, the emulator answering 429 beyond a burst of 3) never exceeded;
 * - watching 20,000 pods: the watcher's RSS (≤ 250 MB) and initial sync (≤ 10 s), with the Kubernetes
 *   emulator in its own process so only the bot's memory is measured.
 * The sustained storm against the bot in its own process (issue 9 §7) is bench/storm.ts.
 * Run: npx tsx bench/alerts.ts   (REDIS_URL as for tests; BENCH_SECONDS scales the latency run, default 10)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deployment as workload } from '../test/e2e/alerts-fixtures.js';
import { startHarness } from '../test/support/harness.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/support/redis.js';
import { benchSeconds, ms, row, summarize } from './lib.js';

const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

const deployment = (namespace: string, name: string, replicas: number) =>
  workload(namespace, name, { replicas, requests: { cpu: '1m', memory: '4Mi' }, limits: { memory: '256Mi' } });

/** Status change → Slack call for new incidents, spread over 5 channels so no sample waits for a rate token. */
export async function benchAlertLatency(seconds = benchSeconds(10)): Promise<string[]> {
  const CHANNELS = 5;
  const samples = Math.max(CHANNELS, Math.round(seconds * 4));
  const perNs = Math.ceil(samples / CHANNELS);
  const envs = Array.from({ length: CHANNELS }, (_, i) => `b${i}`);
  const h = await startHarness({
    name: 'bench-alerts',
    namespaces: ['default', ...envs],
    config: (kubeconfig) => `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments:
${envs.map((e) => `  ${e}: { cluster: default, namespace: ${e} }`).join('\n')}
alerts:
${envs.map((e, i) => `  - { environments: [${e}], channel: C0BENCH${i}, on: [OOMKilled], pendingFor: 10m }`).join('\n')}
`,
  });
  try {
    for (const ns of envs) for (let d = 0; d < perNs; d++) h.kube.create(deployment(ns, `svc-${d}`, 1));
    await h.kube.waitFor(() => envs.every((ns) => h.kube.list('v1', 'Pod', ns).filter(ready).length === perNs), 30_000, 'pods ready');
    await h.kube.waitFor(
      () => envs.every((ns) => h.kube.requests.some((r) => r.path === `/api/v1/namespaces/${ns}/pods` && r.query.watch === 'true')),
      10_000,
      'the bot watching',
    );
    const latencies: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < samples; i++) {
      const ns = envs[i % CHANNELS]!;
      const name = `svc-${Math.floor(i / CHANNELS)}`;
      const pod = h.kube.list('v1', 'Pod', ns).find((p) => p.metadata.labels.app === name)!;
      const changed = Date.now();
      h.kube.oomKill(ns, pod.metadata.name);
      waits.push(
        h.slack
          .waitForCall(
            (c) =>
              c.method === 'chat.postMessage' &&
              !c.args.thread_ts &&
              c.args.channel === `C0BENCH${i % CHANNELS}` &&
              c.args.text.includes(`deployment ${name} · ${ns}`),
            10_000,
          )
          .then((c) => void latencies.push(c.at - changed)),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(waits);
    const s = summarize(latencies);
    return [
      `alert latency: OOM kill → chat.postMessage of a new incident (diagnosis and 20 log lines included), n=${s.n}`,
      row('pod status change → Slack call', `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`, 'p99 ≤ 1 s', s.p99 <= 1_000),
    ];
  } finally {
    await h.stop();
  }
}

/** 1,000 OOM kills over 10 deployments of 10 pods, against a channel limited like Slack's. */
export async function benchAlertStorm(): Promise<string[]> {
  const DEPLOYMENTS = 10;
  const REPLICAS = 10;
  const ROUNDS = 10;
  const h = await startHarness({
    name: 'bench-storm',
    config: (kubeconfig) => `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments: { beta: { cluster: default, namespace: beta } }
alerts: [{ environments: [beta], channel: C0STORM, on: [OOMKilled], pendingFor: 10m }]
`,
  });
  try {
    h.slack.setChannelRateLimit({ perSecond: 1, burst: 3 });
    for (let d = 0; d < DEPLOYMENTS; d++) h.kube.create(deployment('beta', `storm-${d}`, REPLICAS));
    await h.kube.waitFor(() => h.kube.list('v1', 'Pod', 'beta').filter(ready).length === DEPLOYMENTS * REPLICAS, 30_000, 'pods ready');
    // Kills before the bot's watch opens would be seen only as the state its first list shows.
    await h.kube.waitFor(
      () => h.kube.requests.some((r) => r.path === '/api/v1/namespaces/beta/pods' && r.query.watch === 'true'),
      10_000,
      'the bot watching',
    );
    const pods = h.kube.list('v1', 'Pod', 'beta').map((p) => p.metadata.name as string);
    const started = Date.now();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const pod of pods) h.kube.oomKill('beta', pod);
      await h.kube.waitFor(
        () => pods.every((p) => h.kube.get('v1', 'Pod', 'beta', p)?.status.containerStatuses[0].restartCount >= round),
        10_000,
        `round ${round}`,
      );
    }
    const killsMs = Date.now() - started;
    const countOf = (text: string) => Number(/ — (\d+) occurrences/.exec(text)?.[1] ?? 1);
    const total = () => h.slack.topLevel('C0STORM').reduce((sum, m) => sum + countOf(m.text), 0);
    const expected = DEPLOYMENTS * REPLICAS * ROUNDS;
    await h.slack.waitForCall(() => total() >= expected, 60_000).catch(() => undefined);
    const countedMs = Date.now() - started;
    const posts = h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0STORM');
    const updates = h.slack.callsTo('chat.update');
    const busiestSecond = Math.max(...posts.map((p) => posts.filter((q) => q.at >= p.at && q.at < p.at + 1_000).length));
    const busiestMinute = Math.max(0, ...updates.map((u) => updates.filter((q) => q.at >= u.at && q.at < u.at + 60_000).length));
    const top = h.slack.topLevel('C0STORM').length;
    const limited = posts.filter((c) => c.rateLimited).length;
    return [
      `OOM storm: ${expected} kills over ${DEPLOYMENTS} deployments in ${(killsMs / 1000).toFixed(1)} s, one channel limited to 1 msg/s (burst 3)`,
      row('top-level messages', String(top), `≤ ${DEPLOYMENTS}`, top <= DEPLOYMENTS),
      row(
        'kills counted on the messages',
        `${total()} of ${expected} (all shown ${(countedMs / 1000).toFixed(1)} s after the first kill)`,
        'none lost',
        total() === expected,
      ),
      row(
        'posts in the channel / answered 429',
        `${posts.length} / ${limited}; busiest second: ${busiestSecond}`,
        '0 × 429',
        limited === 0,
      ),
      row('chat.update calls', `${updates.length}; busiest minute: ${busiestMinute}`, 'Tier 3 ~50/min', busiestMinute <= 60),
    ];
  } finally {
    await h.stop();
  }
}

const WATCHED_PODS = 20_000;

/** The Kubernetes emulator in its own process; resolves with its URL and kubeconfig. */
async function emulatorProcess(dir: string, nodes: number): Promise<{ child: ChildProcess; url: string; kubeconfig: string }> {
  const cli = fileURLToPath(new URL('../test/support/kube/cli.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      cli,
      '--nodes',
      String(nodes),
      '--namespaces',
      'default,fleet',
      '--events',
      'warnings',
      '--history-limit',
      '50000',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; kubeconfig: string }) };
}

/**
 * 20,000 running pods in one namespace, watched by the alerts role as `npm start` runs it (compiled
 * JavaScript, plain node) in a process of its own, which reports its memory and sync time.
 */
export async function benchAlertWatch(): Promise<string[]> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
      stdio: 'ignore',
    }).once('exit', resolve),
  );
  if (!existsSync(join(root, 'dist/src/alerts/index.js')))
    throw new Error(`the build did not produce dist/src/alerts/index.js (tsc exited with ${built})`);
  const dir = await mkdtemp(join(tmpdir(), 'chatops-bench-watch-'));
  const { child, url, kubeconfig } = await emulatorProcess(dir, Math.ceil(WATCHED_PODS / 100));
  const prefix = freshPrefix('bench-watch');
  try {
    const per = 1_000;
    for (let i = 0; i < WATCHED_PODS / per; i++) {
      const res = await fetch(`${url}/apis/apps/v1/namespaces/fleet/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(deployment('fleet', `fleet-${i}`, per)),
      });
      if (!res.ok) throw new Error(`creating fleet-${i}: ${res.status} ${await res.text()}`);
    }
    for (const deadline = Date.now() + 120_000; ;) {
      const res = await fetch(`${url}/api/v1/namespaces/fleet/pods?fieldSelector=status.phase%3DRunning&limit=1`);
      const list = (await res.json()) as { items: unknown[]; metadata: { remainingItemCount?: number } };
      if (list.items.length + (list.metadata.remainingItemCount ?? 0) >= WATCHED_PODS) break;
      if (Date.now() > deadline) throw new Error('the emulator did not start 20,000 pods in 2 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    const configFile = join(dir, 'chatops.yaml');
    await writeFile(
      configFile,
      `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments: { fleet: { cluster: default, namespace: fleet } }
alerts: [{ environments: [fleet], channel: C0FLEET }]
`,
    );
    const watcher = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', WATCHER], {
      cwd: root,
      env: { ...process.env, BENCH_CONFIG: configFile, BENCH_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const report = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        createInterface({ input: watcher.stdout }).once('line', resolve);
        watcher.once('exit', (code) => reject(new Error(`watcher exited with ${code}`)));
      }),
    ) as { pods: number; syncMs: number; baseRssMb: number; rssMb: number; peakRssMb: number; heapMb: number };
    await new Promise((r) => watcher.once('exit', r));
    return [
      `watching ${report.pods} pods: the alerts role alone, compiled, in its own process (the emulator in another)`,
      row('initial sync (list in pages + watch)', `${(report.syncMs / 1000).toFixed(2)} s`, '≤ 10 s', report.syncMs <= 10_000),
      row(
        'RSS peak / after sync',
        `${report.peakRssMb} MB / ${report.rssMb} MB (libraries loaded: ${report.baseRssMb} MB; heap ${report.heapMb} MB)`,
        '≤ 250 MB',
        report.peakRssMb <= 250,
      ),
    ];
  } finally {
    child.kill('SIGTERM');
    await deletePrefix(prefix);
  }
}

/** The measured process: the compiled alerts role, started, synced, measured; one JSON line out. */
const WATCHER = `
const mb = (b) => Math.round(b / 2 ** 20);
const { startAlerts } = await import('./dist/src/alerts/index.js');
const { loadConfig } = await import('./dist/src/config/load.js');
const { Clusters } = await import('./dist/src/kube/clusters.js');
const { createLogger } = await import('./dist/src/log.js');
const { createRedis } = await import('./dist/src/queue/redis.js');
const { IntentStore } = await import('./dist/src/command/intents.js');
const { WebClient } = await import('@slack/web-api');
const config = await loadConfig(process.env.BENCH_CONFIG);
const prefix = process.env.BENCH_PREFIX;
const redis = createRedis(process.env.REDIS_URL, 'producer');
const connection = createRedis(process.env.REDIS_URL, 'worker');
global.gc();
const baseRss = process.memoryUsage().rss;
const started = performance.now();
const alerts = await startAlerts({
  config, clusters: new Clusters(config, process.env.BENCH_CONFIG),
  slack: new WebClient('xoxb-bench', { slackApiUrl: 'http://127.0.0.1:9/api/' }),
  redis, connection, intents: new IntentStore(redis, prefix), prefix, log: createLogger('warn'),
  options: { identity: 'bench', leaseNamespace: 'default' },
});
await alerts.whenWatching();
const syncMs = performance.now() - started;
global.gc();
await new Promise((r) => setTimeout(r, 1000));
const report = { pods: alerts.watchedPods(), syncMs, baseRssMb: mb(baseRss), rssMb: mb(process.memoryUsage().rss), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), heapMb: mb(process.memoryUsage().heapUsed) };
process.stdout.write(JSON.stringify(report) + '\\n');
await alerts.stop();
redis.disconnect();
connection.disconnect();
process.exit(0);
`;

export async function benchAlerts(): Promise<string[]> {
  return [...(await benchAlertLatency()), '', ...(await benchAlertStorm()), '', ...(await benchAlertWatch())];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchAlerts()) console.log(line);
  process.exit(0);
}
