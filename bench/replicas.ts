/**
 * Several replicas on one Redis (issue 12 §3): 2 app, 3 worker and 2 alerts processes, each
 * started as its own `node src/main.ts` with CHATOPS_ROLE, on a fresh key prefix. This process
 * runs the Slack and Kubernetes emulators and the load: BENCH_COMMANDS signed `scale` commands
 * (default 500) over 10 (app, env) targets at BENCH_RATE/s, round-robin over the app processes.
 * Midway it SIGKILLs one worker and the alerts leader (the Lease holder), and OOM-kills pods
 * before and after, so alerts fire across the failover. At the end it checks:
 * - every command became one job that completed exactly once (one audit `succeeded` per job,
 *   one ✅ final per job thread);
 * - no two jobs on one target overlapped (BullMQ processedOn/finishedOn of the run that completed);
 * - one Lease holder at a time, the killed leader replaced, one leadership start per survivor;
 * - one top-level alert message per incident (per OOM-killed workload, across the failover);
 * and reports throughput (commands completed/s) and enqueue → start (processedOn − timestamp).
 * Run: BENCH_COMMANDS=500 npx tsx bench/replicas.ts   (REDIS_URL as for tests)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { hashTaggedPrefix } from '../src/config/settings.js';
import { COMMAND_QUEUE, type CommandJobData } from '../src/queue/commands.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/harness.js';
import { startKubeEmulator, type KubeEmulator } from '../test/support/kube/index.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL, TEST_SIGNING_KEY } from '../test/support/redis.js';
import { freePort } from '../test/support/redis-server.js';
import { postSlashCommand, startSlackEmulator, type SlackEmulator } from '../test/support/slack/index.js';
import { atRate, ms, row, summarize } from './lib.js';
import { healthy, start, type Child } from './procs/spawn.js';

const OPS = 'C0OPS';
const ONCALL = 'C0ONCALL';
const APPS = ['a0', 'a1', 'a2', 'a3', 'a4'];
const ENVS = ['beta', 'prod'];
const TARGETS = APPS.flatMap((app) => ENVS.map((env) => ({ app, env })));

const CONFIG = (kubeconfig: string) => `
clusters: { default: { context: emulator, kubeconfig: ${kubeconfig} } }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
apps:
${APPS.map((a) => `  ${a}: { image: registry.example.com/team/${a}, replicas: 1, resources: { requests: { cpu: 1m, memory: 4Mi }, limits: { memory: 64Mi } } }`).join('\n')}
channels:
  ${OPS}: { environments: ["*"], commands: ["*"] }
alerts:
  - { environments: [beta, prod], channel: ${ONCALL}, on: [OOMKilled], pendingFor: 300ms, recoverAfter: 10m }
`;

export interface ReplicasResult {
  lines: string[];
  /** Failed checks (empty when every property held). */
  failures: string[];
}

interface Proc {
  role: 'app' | 'worker' | 'alerts';
  child: Child;
  port: number;
  alive: boolean;
  leadingStarts: number;
}

const isTop = (c: { method: string; args: Record<string, any> }) => c.method === 'chat.postMessage' && !c.args.thread_ts;

export async function benchReplicas(
  commands = Number(process.env.BENCH_COMMANDS ?? 500),
  rate = Number(process.env.BENCH_RATE ?? 25),
): Promise<ReplicasResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-replicas-'));
  const prefix = freshPrefix('bench-replicas');
  const kube: KubeEmulator = await startKubeEmulator({ namespaces: ['default', ...ENVS], nodes: 3 });
  const slack: SlackEmulator = await startSlackEmulator({ botToken: BOT_TOKEN });
  const procs: Proc[] = [];
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: redis, prefix: hashTaggedPrefix(prefix) });
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
    return ok;
  };
  try {
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
    const config = join(dir, 'chatops.yaml');
    await writeFile(config, CONFIG(kubeconfig));
    const spawnRole = async (role: Proc['role']) => {
      const port = await freePort();
      const child = start(
        ['node', '--import', 'tsx', 'src/main.ts'],
        {
          ...process.env,
          PORT: String(port),
          CHATOPS_ROLE: role,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.url,
          REDIS_URL: TEST_REDIS_URL,
          CHATOPS_CONFIG: config,
          CHATOPS_QUEUE_PREFIX: prefix,
          CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
          CHATOPS_JOB_LOCK_MS: '3000',
          LOG_LEVEL: role === 'alerts' ? 'info' : 'warn',
        },
        `${role} replica`,
      );
      const proc: Proc = { role, child, port, alive: true, leadingStarts: 0 };
      child.process.once('exit', () => (proc.alive = false));
      if (role === 'alerts') {
        // Each leadership start, counted from the replica's own log.
        child.process.stdout?.on('data', (chunk: Buffer) => {
          proc.leadingStarts += chunk.toString().split('leading: this replica watches for alerts').length - 1;
        });
      }
      procs.push(proc);
      return proc;
    };
    for (const role of ['app', 'app', 'worker', 'worker', 'worker', 'alerts', 'alerts'] as const) await spawnRole(role);
    await Promise.all(procs.map((p) => healthy(`http://127.0.0.1:${p.port}/healthz`)));
    const apps = procs.filter((p) => p.role === 'app');
    const send = async (text: string, i: number) => {
      const url = `http://127.0.0.1:${apps[i % apps.length]!.port}/slack/events`;
      const res = await postSlashCommand(url, SIGNING_SECRET, {
        text,
        channel_id: OPS,
        user_id: 'U0OPS',
        trigger_id: `replicas-${i}-${Date.now()}`,
        response_url: slack.newResponseUrl(),
      });
      if (res.status !== 200 || !String(res.json?.text).includes('Queued'))
        throw new Error(`${text}: ${res.status} ${JSON.stringify(res.json)}`);
      return res.ms;
    };

    // Setup, not measured: deploy every target once.
    await Promise.all(TARGETS.map((t, i) => send(`deploy ${t.app} ${t.env} 1.0.0`, i)));
    await kube.waitFor(
      () =>
        slack.calls.filter((c) => c.method === 'chat.update' && /:white_check_mark: deploy .* — done/.test(String(c.args.text))).length ===
        TARGETS.length,
      60_000,
      'setup deploys done',
    );
    const leaseHolder = () =>
      kube
        .list('coordination.k8s.io/v1', 'Lease', 'default')
        .map((l) => l.spec?.holderIdentity as string | undefined)
        .find(Boolean);
    await kube.waitFor(() => Boolean(leaseHolder()), 30_000, 'an alerts leader');
    const holders: string[] = [];
    const watchLease = setInterval(() => {
      const h = leaseHolder();
      if (h && holders.at(-1) !== h) holders.push(h);
    }, 100);

    const podsOf = (t: { app: string; env: string }) =>
      kube.list('v1', 'Pod', t.env).filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === t.app && !p.metadata.deletionTimestamp);
    const oomKill = (t: { app: string; env: string }) => {
      const pod = podsOf(t)[0];
      return pod ? kube.oomKill(t.env, pod.metadata.name) : false;
    };
    const alertTops = (t: { app: string; env: string }) =>
      slack.calls.filter((c) => isTop(c) && c.args.channel === ONCALL && String(c.args.text).includes(`deployment ${t.app} · ${t.env}`));
    const firstHalf = TARGETS.slice(0, 5);
    const oomed = new Set<(typeof TARGETS)[number]>();

    // The load; the kills happen midway, from inside the schedule.
    const killed: string[] = [];
    const started = Date.now();
    const midway = Math.floor(commands / 2);
    let chaos: Promise<void> = Promise.resolve();
    await atRate(rate, commands / rate, async (i) => {
      if (i === Math.floor(commands / 4)) for (const t of firstHalf) if (oomKill(t)) oomed.add(t);
      if (i === midway) {
        const worker = procs.find((p) => p.role === 'worker' && p.alive)!;
        process.kill(worker.child.process.pid!, 'SIGKILL');
        killed.push(`worker pid ${worker.child.process.pid}`);
        chaos = (async () => {
          await kube.waitFor(() => [...oomed].every((t) => alertTops(t).length > 0), 20_000, 'alerts before the failover');
          const holder = leaseHolder()!;
          const leader = procs.find((p) => p.role === 'alerts' && holder.includes(`-${p.child.process.pid}-`))!;
          process.kill(leader.child.process.pid!, 'SIGKILL');
          killed.push(`alerts leader pid ${leader.child.process.pid}`);
          await kube.waitFor(() => Boolean(leaseHolder()) && leaseHolder() !== holder, 40_000, 'a new alerts leader');
          // The same workloads again (same incidents) and five new ones.
          for (const t of TARGETS) if (oomKill(t)) oomed.add(t);
        })();
      }
      const t = TARGETS[i % TARGETS.length]!;
      return send(`scale ${t.app} ${t.env} ${1 + (Math.floor(i / TARGETS.length) % 3)}`, i);
    });
    await chaos;
    const jobsDone = async () => (await queue.getJobs(['completed'])).filter((j) => j.data.verb === 'scale').length;
    const deadline = Date.now() + 60_000 + commands * 200;
    while ((await jobsDone()) < commands && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await kube.waitFor(() => [...oomed].every((t) => alertTops(t).length > 0), 20_000, 'alerts after the failover').catch(() => undefined);
    clearInterval(watchLease);

    // --- checks ---
    const jobs = (await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'])).filter(
      (j) => j.data.verb === 'scale',
    );
    const completed = jobs.filter((j) => j.finishedOn && !j.failedReason);
    check(
      new Set(jobs.map((j) => j.data.request.requestId)).size === commands && jobs.length === commands,
      `${jobs.length} scale jobs for ${commands} commands`,
    );
    check(completed.length === commands, `${completed.length}/${commands} scale jobs completed`);
    const auditKey = `${hashTaggedPrefix(prefix)}:chatops:audit`;
    const audit = (await redis.xrange(auditKey, '-', '+')).map(([, f]) =>
      Object.fromEntries(Array.from({ length: f.length / 2 }, (_, k) => [f[2 * k], f[2 * k + 1]])),
    );
    const succeeded = new Map<string, number>();
    for (const e of audit)
      if (e.outcome === 'succeeded' && e.verb === 'scale' && e.ref) succeeded.set(e.ref, (succeeded.get(e.ref) ?? 0) + 1);
    const notOnce = completed.filter((j) => succeeded.get(j.id!) !== 1);
    check(
      notOnce.length === 0,
      `${notOnce.length} jobs without exactly one audit 'succeeded' (e.g. ${notOnce
        .slice(0, 3)
        .map((j) => `${j.id}:${succeeded.get(j.id!) ?? 0}`)
        .join(', ')})`,
    );
    const finals = new Map<string, number>();
    for (const c of slack.calls)
      if (c.method === 'chat.update' && /:white_check_mark: scale .* — done/.test(String(c.args.text)))
        finals.set(String(c.args.ts), (finals.get(String(c.args.ts)) ?? 0) + 1);
    const badFinals = completed.filter((j) => finals.get(String(j.data.threadTs)) !== 1);
    check(badFinals.length === 0, `${badFinals.length} job threads without exactly one ✅ final`);
    let overlaps = 0;
    // BullMQ sets finishedOn after the job released its target lock, so a next job may start a few ms before it.
    const overlapMs: string[] = [];
    for (const t of TARGETS) {
      const runs = completed
        .filter((j) => (j.data.args as { app?: string; env?: string }).app === t.app && (j.data.args as { env?: string }).env === t.env)
        .map((j) => [j.processedOn!, j.finishedOn!] as const)
        .sort((a, b) => a[0] - b[0]);
      for (let k = 1; k < runs.length; k++) {
        const by = runs[k - 1]![1] - runs[k]![0];
        if (by > 0) {
          overlaps++;
          overlapMs.push(`${t.app}/${t.env} ${by} ms`);
        }
      }
    }
    check(
      overlaps === 0,
      `${overlaps} overlapping job runs on one target (processedOn before the previous finishedOn by: ${overlapMs.join(', ')})`,
    );
    const survivors = procs.filter((p) => p.role === 'alerts' && p.alive);
    check(holders.length === 2, `Lease holders over the run: ${holders.join(' → ')} (expected the first leader, then one successor)`);
    check(
      survivors.length === 1 && survivors[0]!.leadingStarts === 1,
      `surviving alerts replica started leading ${survivors[0]?.leadingStarts ?? 0} times`,
    );
    const perIncident = [...oomed].map((t) => alertTops(t).length);
    check(
      oomed.size === TARGETS.length && perIncident.every((n) => n === 1),
      `top-level alert messages per incident: ${perIncident.join(',')} over ${oomed.size} OOM-killed workloads`,
    );

    // --- figures ---
    const first = Math.min(...completed.map((j) => j.timestamp));
    const last = Math.max(...completed.map((j) => j.finishedOn!));
    const throughput = completed.length / ((last - first) / 1_000);
    const wait = summarize(completed.map((j) => j.processedOn! - j.timestamp));
    const retried = completed.filter((j) => j.attemptsMade > 1 || (j.stalledCounter ?? 0) > 0).length;
    return {
      failures,
      lines: [
        `${commands} scale commands over ${TARGETS.length} targets at ${rate}/s; 2 app + 3 worker + 2 alerts processes on one Redis; killed (SIGKILL): ${killed.join(', ')}; load ran ${((Date.now() - started) / 1_000).toFixed(1)} s`,
        row(
          'commands completed exactly once',
          `${completed.length - notOnce.length - badFinals.length}/${commands}`,
          'all',
          notOnce.length + badFinals.length === 0 && completed.length === commands,
        ),
        row('overlapping runs on one target', String(overlaps), '0', overlaps === 0),
        row('alerts leaders (Lease holders in turn)', `${holders.length}`, '2 (one failover)', holders.length === 2),
        row(
          'top-level alert messages per incident',
          perIncident.join(','),
          '1 each',
          perIncident.every((n) => n === 1),
        ),
        row('throughput (first enqueue → last finish)', `${throughput.toFixed(1)} commands/s`, '—', true),
        row(
          'enqueue → start (incl. waits for the target lock)',
          `p50 ${ms(wait.p50)}  p99 ${ms(wait.p99)}  max ${ms(wait.max)}`,
          '—',
          true,
        ),
        row('jobs re-run after the worker kill', String(retried), '—', true),
        ...failures.map((f) => `FAIL  ${f}`),
      ],
    };
  } finally {
    for (const p of procs.reverse()) await p.child.stop().catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await slack.close();
    await kube.close();
    await deletePrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { lines, failures } = await benchReplicas();
  for (const line of lines) console.log(line);
  process.exit(failures.length ? 1 : 0);
}
