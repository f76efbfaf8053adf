/**
 * The playground's Redis: REDIS_URL, else the default local one, else a private
 * redis-server started on a free port for as long as the playground runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const HOW_TO_GET_REDIS =
  'The playground needs Redis: start one with `docker run -d -p 6379:6379 redis:7` (or `sudo apt-get install redis-server`), or set REDIS_URL.';

export interface PlaygroundRedis {
  url: string;
  /** Where it came from, for the start-up banner. */
  source: 'REDIS_URL' | 'local' | 'started';
  stop(): Promise<void>;
}

/** True if a Redis at host:port answers PING within the timeout. */
export function pingRedis(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

function findOnPath(program: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...pathVar.split(delimiter), '/usr/sbin', '/usr/local/bin']) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

async function startRedisServer(binary: string): Promise<PlaygroundRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('Ready to accept connections')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-300)}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    source: 'started',
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Finds or starts a Redis; rejects with HOW_TO_GET_REDIS (or why REDIS_URL fails) when there is none. */
export async function findRedis(env: NodeJS.ProcessEnv): Promise<PlaygroundRedis> {
  const none = async () => undefined;
  if (env.REDIS_URL) {
    const u = new URL(env.REDIS_URL);
    // TLS or authenticated Redis cannot be PINGed in plain text: trust the URL.
    if (u.protocol === 'redis:' && !u.password && !(await pingRedis(u.hostname, Number(u.port || 6379)))) {
      throw new Error(`REDIS_URL (${u.host}) does not answer. ${HOW_TO_GET_REDIS}`);
    }
    return { url: env.REDIS_URL, source: 'REDIS_URL', stop: none };
  }
  if (await pingRedis('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379', source: 'local', stop: none };
  const binary = findOnPath('redis-server');
  if (binary) return startRedisServer(binary);
  throw new Error(`No Redis answers on 127.0.0.1:6379 and no redis-server is installed. ${HOW_TO_GET_REDIS}`);
}
