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
 * and reports throughput (commands completed/s), enqueue → start (processedOn − timestamp, waits for the target lock
 * included) and enqueue → the job's first post in Slack (the queue alone).
 * Run: BENCH_COMMANDS=500 npx tsx bench/replicas.ts   (REDIS_URL as for tests; BENCH_REDIS=cluster starts a
 * private Redis Cluster instead; CHATOPS_LEADER_LEASE_MS and other settings pass through to the replicas)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { hashTaggedPrefix } from '../src/config/settings.js';
import { COMMAND_QUEUE, type CommandJobData } from '../src/queue/commands.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/harness.js';
import { startKubeEmulator, type KubeEmulator } from '../test/support/kube/index.js';
import { freshPrefix, TEST_SIGNING_KEY } from '../test/support/redis.js';
import { postSlashCommand, startSlackEmulator, type SlackEmulator } from '../test/support/slack/index.js';
import { atRate, ms, row, summarize } from './lib.js';
import { benchRedis, topologyFrom, type BenchRedis, type Topology } from './procs/redis.js';
import { healthy, start, startedPort, type Child } from './procs/spawn.js';
import { isFinal, jobThreads } from './procs/job-threads.js';

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

export interface ReplicasOptions {
  /** Scale commands sent (default BENCH_COMMANDS, else 500). */
  commands?: number;
  /** Commands per second (default BENCH_RATE, else 25). */
  rate?: number;
  /** Single Redis or a private Redis Cluster (default BENCH_REDIS, else single). */
  redis?: Topology;
  /** Settings for every replica on top of this process's environment (e.g. CHATOPS_LEADER_LEASE_MS). */
  env?: Record<string, string>;
}

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

export async function benchReplicas(opts: ReplicasOptions = {}): Promise<ReplicasResult> {
  const commands = opts.commands ?? Number(process.env.BENCH_COMMANDS ?? 500);
  const rate = opts.rate ?? Number(process.env.BENCH_RATE ?? 25);
  const topology = opts.redis ?? topologyFrom(process.env.BENCH_REDIS);
  const began = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - began) / 1_000).toFixed(1)} s`);
  const dir = await mkdtemp(join(tmpdir(), 'bench-replicas-'));
  // The bot's own prefix: a Cluster hash tag, so every key of a script shares a slot.
  const prefix = hashTaggedPrefix(freshPrefix('bench-replicas'));
  const kube: KubeEmulator = await startKubeEmulator({ namespaces: ['default', ...ENVS], nodes: 3 });
  const slack: SlackEmulator = await startSlackEmulator({ botToken: BOT_TOKEN });
  const procs: Proc[] = [];
  let redis: BenchRedis | undefined;
  let queue: Queue<CommandJobData> | undefined;
  let stopLeaseWatch = () => {};
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
    return ok;
  };
  try {
    redis = await benchRedis(topology);
    const jobQueue = (queue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: redis.client, prefix }));
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
    const config = join(dir, 'chatops.yaml');
    await writeFile(config, CONFIG(kubeconfig));
    const spawnRole = async (role: Proc['role']) => {
      const child = start(
        ['node', '--import', 'tsx', 'src/main.ts'],
        {
          ...process.env,
          ...redis!.env,
          ...opts.env,
          // Port 0: each replica binds its own and logs it; a port picked here could be taken before the replica binds it.
          PORT: '0',
          CHATOPS_ROLE: role,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.url,
          CHATOPS_CONFIG: config,
          CHATOPS_QUEUE_PREFIX: prefix,
          CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
          CHATOPS_JOB_LOCK_MS: '3000',
          LOG_LEVEL: 'info',
        },
        `${role} replica`,
      );
      const proc: Proc = { role, child, port: 0, alive: true, leadingStarts: 0 };
      child.process.once('exit', () => (proc.alive = false));
      if (role === 'alerts') {
        // Each leadership start, counted from the replica's own log.
        child.process.stdout?.on('data', (chunk: Buffer) => {
          proc.leadingStarts += chunk.toString().split('leading: this replica watches for alerts').length - 1;
        });
      }
      procs.push(proc);
      proc.port = startedPort(await child.line(/k8s-chatops started/));
      return proc;
    };
    await Promise.all((['app', 'app', 'worker', 'worker', 'worker', 'alerts', 'alerts'] as const).map(spawnRole));
    // Ready, not only alive: Redis (the Cluster's slot map), Slack and the Kubernetes API answer.
    await Promise.all(procs.map((p) => healthy(`http://127.0.0.1:${p.port}/readyz`)));
    phase('replicas ready');
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
    phase('setup deploys done, a leader');
    // Every holder in turn, seen on each change of the emulator's store (not sampled).
    const holders: string[] = [];
    let watchingLease = true;
    const leaseWatch = kube.waitFor(
      () => {
        const h = leaseHolder();
        if (h && holders.at(-1) !== h) holders.push(h);
        return !watchingLease;
      },
      3_600_000,
      'the end of the run',
    );
    // A store change wakes the watch for its last check.
    stopLeaseWatch = () => {
      if (!watchingLease) return;
      watchingLease = false;
      kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-end-${Date.now()}`, namespace: 'default' } });
    };

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
    let workerKilledAt = 0;
    const started = Date.now();
    const midway = Math.floor(commands / 2);
    let chaos: Promise<void> = Promise.resolve();
    phase('load starts');
    await atRate(rate, commands / rate, async (i) => {
      if (i === Math.floor(commands / 4)) for (const t of firstHalf) if (oomKill(t)) oomed.add(t);
      if (i === midway) {
        const worker = procs.find((p) => p.role === 'worker' && p.alive)!;
        process.kill(worker.child.process.pid!, 'SIGKILL');
        killed.push(`worker pid ${worker.child.process.pid}`);
        workerKilledAt = Date.now();
        chaos = (async () => {
          await slack.waitForCall(() => [...oomed].every((t) => alertTops(t).length > 0), 20_000);
          const holder = leaseHolder()!;
          const leader = procs.find((p) => p.role === 'alerts' && holder.includes(`-${p.child.process.pid}-`))!;
          process.kill(leader.child.process.pid!, 'SIGKILL');
          killed.push(`alerts leader pid ${leader.child.process.pid}`);
          await kube.waitFor(() => Boolean(leaseHolder()) && leaseHolder() !== holder, 40_000, 'a new alerts leader');
          phase('new alerts leader');
          // The same workloads again (same incidents) and five new ones.
          for (const t of TARGETS) if (oomKill(t)) oomed.add(t);
        })();
      }
      const t = TARGETS[i % TARGETS.length]!;
      return send(`scale ${t.app} ${t.env} ${1 + (Math.floor(i / TARGETS.length) % 3)}`, i);
    });
    phase('load sent');
    await chaos;
    // Every job posts its ✅ to the emulator just before it ends: wait on those calls, then on BullMQ for the last few ends.
    await slack
      .waitForCall(() => slack.calls.filter((c) => isFinal(c, 'scale')).length >= commands, 60_000 + commands * 200)
      .then(() => phase('every ✅ posted'))
      .catch(() => undefined);
    const deadline = Date.now() + 30_000;
    const jobsDone = async () => (await jobQueue.getJobs(['completed'])).filter((j) => j.data.verb === 'scale').length;
    while ((await jobsDone()) < commands && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await slack.waitForCall(() => [...oomed].every((t) => alertTops(t).length > 0), 20_000).catch(() => undefined);
    phase('checks');
    stopLeaseWatch();
    await leaseWatch;

    // --- checks ---
    const jobs = (await jobQueue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'])).filter(
      (j) => j.data.verb === 'scale',
    );
    const completed = jobs.filter((j) => j.finishedOn && !j.failedReason);
    check(
      new Set(jobs.map((j) => j.data.request.requestId)).size === commands && jobs.length === commands,
      `${jobs.length} scale jobs for ${commands} commands`,
    );
    check(completed.length === commands, `${completed.length}/${commands} scale jobs completed`);
    const auditKey = `${prefix}:chatops:audit`;
    const audit = (await redis.client.xrange(auditKey, '-', '+')).map(([, f]) =>
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
    const { finals, starts } = jobThreads(slack.calls, 'scale');
    const finalOf = (j: (typeof completed)[number]) => finals.get(String(j.data.threadTs));
    const badFinals = completed.filter((j) => finalOf(j)?.texts.size !== 1);
    // Started again after its ✅: the change made twice.
    const ranAgain = completed.filter((j) =>
      (starts.get(String(j.data.threadTs)) ?? []).some((at) => at > (finalOf(j)?.first ?? Infinity)),
    );
    const resent = [...finals.values()].reduce((n, f) => n + f.count - 1, 0);
    // What a job's thread saw, in ms from the worker kill: enough to tell a re-run from a lost post.
    const story = (j: (typeof completed)[number]) =>
      `job ${j.id} (${(j.data.args as { app?: string }).app}/${(j.data.args as { env?: string }).env}, attempts ${j.attemptsMade}, stalled ${j.stalledCounter ?? 0}, processedOn ${j.processedOn! - workerKilledAt}, finishedOn ${j.finishedOn! - workerKilledAt}): ${slack.calls
        .filter(
          (c) => c.ok && (c.args.thread_ts === j.data.threadTs || c.args.ts === j.data.threadTs || c.response?.ts === j.data.threadTs),
        )
        .map((c) => `${c.at - workerKilledAt} ${c.method} ${String(c.args.text).slice(0, 24)}`)
        .join(' | ')}`;
    check(
      badFinals.length === 0,
      `${badFinals.length} job threads without exactly one ✅ headline: ${badFinals.slice(0, 3).map(story).join(' ;; ')}`,
    );
    check(ranAgain.length === 0, `${ranAgain.length} jobs started again after their ✅: ${ranAgain.slice(0, 3).map(story).join(' ;; ')}`);
    const runStart = new Map([...starts].map(([ts, ats]) => [ts, Math.min(...ats)]));
    const unseen = completed.filter((j) => !runStart.has(String(j.data.threadTs)));
    check(unseen.length === 0, `${unseen.length} jobs without a start post in their thread (overlaps not checked for them)`);
    let overlaps = 0;
    const overlapMs: string[] = [];
    for (const t of TARGETS) {
      const runs = completed
        .filter((j) => (j.data.args as { app?: string; env?: string }).app === t.app && (j.data.args as { env?: string }).env === t.env)
        .map((j) => ({
          id: j.id,
          start: runStart.get(String(j.data.threadTs)) ?? j.processedOn!,
          end: finalOf(j)?.first ?? j.finishedOn!,
        }))
        .sort((a, b) => a.start - b.start);
      for (let k = 1; k < runs.length; k++) {
        const by = runs[k - 1]!.end - runs[k]!.start;
        if (by > 0) {
          overlaps++;
          overlapMs.push(`${t.app}/${t.env} jobs ${runs[k - 1]!.id} and ${runs[k]!.id}: ${by} ms`);
        }
      }
    }
    check(
      overlaps === 0,
      `${overlaps} overlapping job runs on one target (a start post before the previous job's ✅ by: ${overlapMs.join(', ')})`,
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
    // The queue alone: enqueue → the job's first post (its start, or that it waits for the target), one Slack call later.
    const firstPost = new Map(
      slack.calls.filter((c) => isTop(c) && c.ok && c.args.channel === OPS).map((c) => [String(c.response?.ts), c.at]),
    );
    const pickup = summarize(completed.map((j) => (firstPost.get(String(j.data.threadTs)) ?? NaN) - j.timestamp).filter(Number.isFinite));
    const retried = completed.filter((j) => j.attemptsMade > 1 || (j.stalledCounter ?? 0) > 0).length;
    return {
      failures,
      lines: [
        `${commands} scale commands over ${TARGETS.length} targets at ${rate}/s; 2 app + 3 worker + 2 alerts processes on one Redis ${topology === 'cluster' ? 'Cluster (3 masters)' : '(single)'}; killed (SIGKILL): ${killed.join(', ')}; load ran ${((Date.now() - started) / 1_000).toFixed(1)} s`,
        row(
          'commands completed exactly once',
          `${completed.filter((j) => !notOnce.includes(j) && !badFinals.includes(j) && !ranAgain.includes(j)).length}/${commands}`,
          'all',
          notOnce.length + badFinals.length + ranAgain.length === 0 && completed.length === commands,
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
        row('enqueue → first post (queue only)', `p50 ${ms(pickup.p50)}  p99 ${ms(pickup.p99)}  max ${ms(pickup.max)}`, '—', true),
        row('jobs resumed after the worker kill', String(retried), '—', true),
        row('✅ headlines sent again by a resumed copy', String(resent), '—', true),
        `phases: ${phases.join(', ')}`,
        ...failures.map((f) => `FAIL  ${f}`),
      ],
    };
  } finally {
    stopLeaseWatch();
    await Promise.all(procs.map((p) => p.child.stop().catch(() => undefined)));
    await queue?.close();
    await redis?.close(prefix);
    await slack.close();
    await kube.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { lines, failures } = await benchReplicas();
  for (const line of lines) console.log(line);
  process.exit(failures.length ? 1 : 0);
}
