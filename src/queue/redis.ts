import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { unavailable, type ChatOpsError } from '../errors/index.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is. The URL carries credentials, db and TLS (`rediss://`); with Sentinel or Cluster its host is not used. */
export interface RedisSettings {
  url: string;
  /** PEM file of a private CA that signed the servers' certificates. */
  tlsCaFile?: string;
  sentinels?: HostPort[];
  sentinelName?: string;
  sentinelPassword?: string;
  clusterNodes?: HostPort[];
}

/** `host:port,host:port` → list; undefined if any entry is malformed. */
export function parseHostList(text: string): HostPort[] | undefined {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const parsed = entries
    .map((e) => /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(e))
    .map((m) => (m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : undefined));
  if (parsed.length === 0 || parsed.some((p) => !p || p.port < 1 || p.port > 65535)) return undefined;
  return parsed as HostPort[];
}

/** Credentials, db and TLS from the URL (the parts that apply to every node of a Sentinel or Cluster setup). */
function nodeOptions(settings: RedisSettings): RedisOptions {
  const u = new URL(settings.url);
  const tls = u.protocol === 'rediss:' || settings.tlsCaFile !== undefined;
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(tls ? { tls: settings.tlsCaFile ? { ca: readFileSync(settings.tlsCaFile) } : {} } : {}),
  };
}

const PRODUCER_COMMAND_TIMEOUT_MS = 1_500;

/** Where Redis is, for a person to read (no credentials). */
export function describeRedis(where: string | RedisSettings): string {
  const settings: RedisSettings = typeof where === 'string' ? { url: where } : where;
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (settings.clusterNodes) return `Cluster ${list(settings.clusterNodes)}`;
  if (settings.sentinels) return `Sentinel ${settings.sentinelName ?? 'mymaster'} via ${list(settings.sentinels)}`;
  try {
    return new URL(settings.url).host || 'REDIS_URL';
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * A client for a one-off check (`check`, the start-up preflight), on the same topology,
 * credentials and TLS as the bot's: connected within `timeoutMs` or rejected, never retrying.
 * The caller disconnects it.
 */
export async function connectOnce(where: string | RedisSettings, timeoutMs = 5_000): Promise<Redis> {
  const client = createRedis(where, 'worker', { lazyConnect: true, retryStrategy: () => null, connectTimeout: 2_000 });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => void (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(lastError ?? new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return client;
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? (err as Error);
    throw Object.assign(new Error(cause.message), { code: (cause as { code?: string }).code });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connections for producers fail fast when Redis is down, so a command is answered
 * within Slack's 3 s and nothing is sent later behind the user's back; workers and
 * blocking clients wait and retry forever (maxRetriesPerRequest: null), as BullMQ requires.
 *
 * Accepts a URL (single server) or full settings (Sentinel, Cluster, TLS). A Cluster
 * client is returned as `Redis`: our code uses only commands both share, and every
 * key of ours carries the same hash tag, so scripts and MULTIs stay in one slot.
 */
export function createRedis(where: string | RedisSettings, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const settings: RedisSettings = typeof where === 'string' ? { url: where } : where;
  const base: RedisOptions = {
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectTimeout: 2_000,
    lazyConnect: false,
    ...nodeOptions(settings),
    ...extra,
  };
  const options: RedisOptions =
    role === 'producer'
      ? { ...base, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false }
      : { ...base, maxRetriesPerRequest: null };
  let client: Redis;
  if (settings.clusterNodes) {
    const clusterOptions: ClusterOptions = {
      redisOptions: role === 'producer' ? { ...options, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS } : options,
      clusterRetryStrategy: (times) => Math.min(100 * times, 1_000),
      // Failover moves slots: retry redirected commands instead of failing them.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      ...(role === 'producer' ? { maxRedirections: 8 } : {}),
    };
    client = new Cluster(settings.clusterNodes, clusterOptions) as unknown as Redis;
  } else if (settings.sentinels) {
    client = new Redis({
      ...options,
      sentinels: settings.sentinels,
      name: settings.sentinelName ?? 'mymaster',
      ...(settings.sentinelPassword ? { sentinelPassword: settings.sentinelPassword } : {}),
      // TLS (rediss://) applies to the master Sentinel points to; the Sentinels themselves are reached in plain text.
      ...(options.tls ? { enableTLSForSentinelMode: true } : {}),
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1_000),
      // After a failover, reconnect to the new master instead of writing to a replica.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    });
  } else {
    const u = new URL(settings.url);
    client = new Redis({ ...options, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 });
  }
  if (role === 'producer') {
    // BullMQ sends INFO as soon as a Queue is built, so the offline queue must be on until the
    // first connection; after that, commands fail at once while Redis is away (handshake
    // commands of a reconnect bypass the offline queue anyway).
    // Likewise the command timeout: BullMQ's start-up commands wait in the offline queue while a
    // Sentinel or a slow link is resolved, and a timeout there would fail the Queue for good.
    client.once('ready', () => {
      client.options.enableOfflineQueue = false;
      if (!settings.clusterNodes) client.options.commandTimeout = PRODUCER_COMMAND_TIMEOUT_MS;
    });
    if (!settings.clusterNodes) client.on('close', () => failCommandsInFlight(client));
  }
  // ioredis emits 'error' on every failed reconnect; the readiness probe reports it, so don't crash or spam.
  client.on('error', () => {});
  return client;
}

/**
 * Without auto-resend, ioredis sets the commands in flight at a disconnect aside and, when the very
 * next reconnect succeeds, drops them unanswered: their callers (BullMQ's one-time INFO at a Queue's
 * start among them) would wait forever. A producer fails them instead, as it fails everything while
 * Redis is away. ('close' is emitted after the commands were set aside, before any reconnect.)
 */
function failCommandsInFlight(client: Redis): void {
  const lost = new Error('Connection is closed.');
  for (let item = client.commandQueue.shift(); item; item = client.commandQueue.shift()) item.command.reject(lost);
}

/** Resolves true if Redis answers PING within the timeout. */
export async function redisAnswers(client: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  try {
    const result = await Promise.race([
      client.ping(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return result === 'PONG';
  } catch {
    return false;
  }
}

/** A click or command that could not read or write the bot's own records did nothing: Redis, not the user, is the problem. */
export function storeUnreachable(cause: unknown): ChatOpsError {
  return unavailable(
    'I cannot reach my store (Redis) right now, so this did nothing. Try again in a minute; if it persists, tell the ops team.',
    cause,
  );
}
