import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';

/** A private redis-server the test may stop and start again (for "Redis down" tests). */
export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface PrivateRedisOptions {
  /** Default noeviction, as the bot needs. */
  maxmemoryPolicy?: string;
  /** Disables CONFIG, as managed Redis services do. */
  refuseConfig?: boolean;
  /** More redis-server arguments (`--requirepass`, `--user`, cluster or replication settings). */
  args?: string[];
  /** Serve TLS only, on the port (certificate files as redis-server takes them). */
  tls?: { cert: string; key: string; ca: string };
  /** A port chosen by the caller (e.g. to restart a cluster node on the same address). */
  port?: number;
  /** Working directory (cluster nodes write nodes.conf there). */
  dir?: string;
}

export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  let port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const listen = () =>
    opts.tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          opts.tls.cert,
          '--tls-key-file',
          opts.tls.key,
          '--tls-ca-cert-file',
          opts.tls.ca,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)];
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        ...listen(),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        opts.maxmemoryPolicy ?? 'noeviction',
        ...(opts.refuseConfig ? ['--rename-command', 'CONFIG', '""'] : []),
        ...(opts.dir ? ['--dir', opts.dir] : []),
        ...(opts.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // redis-server prints this line once it accepts connections.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child!.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`)));
    });
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  // A free port can be taken between the check and redis-server's bind, and a cluster node also binds
  // port + 10000 (its bus, which must stay under 65536), which nothing checked: a port of our own choosing is chosen again.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (opts.port !== undefined || attempt >= 5 || !/Address already in use|port number too high/.test(String(err))) throw err;
      port = await freePort();
    }
  }
  return { url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, port, start, stop };
}
