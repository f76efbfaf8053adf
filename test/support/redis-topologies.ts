import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startPrivateRedis, type PrivateRedis } from './redis-server.js';

const run = promisify(execFile);

/** Polls `check` until it returns something truthy (servers have no events to wait on from outside). */
export async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${JSON.stringify(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface SentinelSetup {
  master: PrivateRedis;
  replica: PrivateRedis;
  sentinelPort: number;
  name: string;
  password: string;
  sentinelPassword: string;
  /** The port of the server Sentinel currently names master. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/** A master, a replica and one Sentinel (quorum 1), every one with a password, on free ports. */
export async function startSentinelSetup(): Promise<SentinelSetup> {
  const password = 'data-pass-0123';
  const sentinelPassword = 'sentinel-pass-0123';
  const name = 'chatops-master';
  const auth = ['--requirepass', password, '--masterauth', password];
  const master = await startPrivateRedis({ args: auth });
  const replica = await startPrivateRedis({ args: [...auth, '--replicaof', '127.0.0.1', String(master.port)] });
  const dir = await mkdtemp(join(tmpdir(), 'chatops-sentinel-'));
  const sentinelPort = await freePort();
  const conf = join(dir, 'sentinel.conf');
  await writeFile(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `requirepass ${sentinelPassword}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel auth-pass ${name} ${password}`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 4000`,
      '',
    ].join('\n'),
  );
  const sentinel: ChildProcess = spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'inherit'] });
  const client = () =>
    new Redis({
      port: sentinelPort,
      host: '127.0.0.1',
      password: sentinelPassword,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      lazyConnect: true,
    });
  const masterPort = async () => {
    const c = client();
    c.on('error', () => undefined);
    try {
      await c.connect();
      const [, port] = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string];
      return Number(port);
    } finally {
      c.disconnect();
    }
  };
  const stopAll = async () => {
    if (sentinel.exitCode === null && sentinel.pid !== undefined) {
      const exited = once(sentinel, 'exit');
      sentinel.kill('SIGKILL');
      await exited;
    }
    await replica.stop();
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  };
  // A missing binary fails at once, not after the wait below.
  const spawnFailed = new Promise<never>((_, reject) =>
    sentinel.once('error', (err) =>
      reject(new Error(`cannot start redis-sentinel (${err.message}): install it, e.g. apt-get install redis-sentinel`)),
    ),
  );
  // Ready when Sentinel knows the master and has found the replica.
  try {
    await Promise.race([
      spawnFailed,
      until(
        async () => {
          const c = client();
          c.on('error', () => undefined);
          try {
            await c.connect();
            const replicas = (await c.call('SENTINEL', 'replicas', name)) as string[][];
            return replicas.length === 1 && (await masterPort()) === master.port;
          } finally {
            c.disconnect();
          }
        },
        20_000,
        'Sentinel to see the master and its replica',
      ),
    ]);
  } catch (err) {
    // Servers left running would outlive the test run.
    await stopAll();
    throw err;
  }
  return {
    master,
    replica,
    sentinelPort,
    name,
    password,
    sentinelPassword,
    masterPort,
    stop: stopAll,
  };
}

export interface ClusterSetup {
  nodes: PrivateRedis[];
  ports: number[];
  password: string;
  /** The node serving the slot of `key`. */
  nodeFor(key: string): Promise<PrivateRedis>;
  stop(): Promise<void>;
}

/** Three masters (no replicas), joined with `redis-cli --cluster create`, with a password; appendfsync always so a restart loses nothing. */
export async function startCluster(): Promise<ClusterSetup> {
  const password = 'cluster-pass-0123';
  const dir = await mkdtemp(join(tmpdir(), 'chatops-cluster-'));
  const nodes: PrivateRedis[] = [];
  const stopAll = async () => {
    for (const n of nodes) await n.stop();
    await rm(dir, { recursive: true, force: true });
  };
  let ports: number[];
  let info: (port: number, command: string[]) => Promise<string>;
  try {
    for (let i = 0; i < 3; i++) {
      const nodeDir = join(dir, `n${i}`);
      await run('mkdir', ['-p', nodeDir]);
      nodes.push(
        await startPrivateRedis({
          dir: nodeDir,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
            '--requirepass',
            password,
            '--masterauth',
            password,
            '--appendonly',
            'yes',
            '--appendfsync',
            'always',
          ],
        }),
      );
    }
    ports = nodes.map((n) => n.port);
    await run('redis-cli', [
      '-a',
      password,
      '--no-auth-warning',
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    info = async (port: number, command: string[]) =>
      (await run('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', ...command])).stdout;
    for (const port of ports)
      await until(async () => (await info(port, ['cluster', 'info'])).includes('cluster_state:ok'), 20_000, `cluster_state:ok on ${port}`);
  } catch (err) {
    // Servers left running would outlive the test run.
    await stopAll();
    throw err;
  }
  return {
    nodes,
    ports,
    password,
    async nodeFor(key: string) {
      const slot = Number((await info(ports[0]!, ['cluster', 'keyslot', key])).trim());
      const shards = (await info(ports[0]!, ['cluster', 'slots'])).trim().split('\n');
      // redis-cli prints each range as: start, end, ip, port, id, … one value per line.
      for (let i = 0; i + 3 < shards.length; i++) {
        const [start, end, , port] = shards.slice(i, i + 4).map((s) => s.trim());
        if (/^\d+$/.test(start!) && /^\d+$/.test(end!) && Number(start) <= slot && slot <= Number(end) && ports.includes(Number(port)))
          return nodes[ports.indexOf(Number(port))]!;
      }
      throw new Error(`no node serves slot ${slot}`);
    },
    stop: stopAll,
  };
}
