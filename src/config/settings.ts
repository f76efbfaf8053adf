import { z } from 'zod';
import { formatIssues } from './load.js';
import { DEFAULT_REDIS_URL, parseHostList, type RedisSettings } from '../queue/redis.js';
import { MIN_SIGNING_KEY_LENGTH } from '../security/signing.js';

export const ROLES = ['app', 'worker', 'alerts'] as const;
export type Role = (typeof ROLES)[number];

/** Process settings from the environment. Secrets come only from here, never from the config file. */
const settingsSchema = z.object({
  SLACK_BOT_TOKEN: z.string({ error: "is required: the bot token (xoxb-…) from your Slack app's OAuth & Permissions page" }).min(1),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Never echo the value: it may hold a password.
  REDIS_URL: z
    .string()
    .refine(
      (v) => /^rediss?:\/\/[^\s]*$/.test(v) && URL.canParse(v) && new URL(v).hostname !== '',
      'must be redis://[user:password@]host[:port][/db] or rediss://… for TLS, with special characters in the password percent-encoded (value not shown: it may hold a password)',
    )
    .default(DEFAULT_REDIS_URL),
  REDIS_TLS_CA: z.string().min(1).optional(),
  REDIS_SENTINELS: z
    .string()
    .refine((v) => parseHostList(v) !== undefined, 'must be host:port,host:port,…')
    .optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .refine((v) => parseHostList(v) !== undefined, 'must be host:port,host:port,…')
    .optional(),
  CHATOPS_CONFIG: z.string().default('./chatops.yaml'),
  CHATOPS_ROLE: z.enum(ROLES).optional(),
  CHATOPS_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*(\{[A-Za-z0-9_-]+\})?[A-Za-z0-9_-]*$/, 'letters, digits, _ and - (optionally one {hash tag})')
    .optional(),
  CHATOPS_SIGNING_KEY: z
    .string({
      error: `is required: a random secret of at least ${MIN_SIGNING_KEY_LENGTH} characters, the same in every replica (e.g. \`openssl rand -base64 32\`); it signs jobs and approvals in Redis`,
    })
    .min(MIN_SIGNING_KEY_LENGTH, `must be at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`),
  CHATOPS_SIGNING_KEY_PREVIOUS: z.string().min(MIN_SIGNING_KEY_LENGTH, `must be at least ${MIN_SIGNING_KEY_LENGTH} characters`).optional(),
  CHATOPS_JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  CHATOPS_LEADER_LEASE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(300_000)
    .refine((ms) => ms % 1_000 === 0, 'must be whole seconds (e.g. 15000): a Kubernetes Lease counts its duration in seconds')
    .default(15_000),
  CHATOPS_CANARY_WATCH_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  CHATOPS_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Settings {
  botToken: string;
  signingSecret: string;
  appToken?: string;
  apiUrl?: string;
  port: number;
  redisUrl: string;
  /** Where Redis is: the URL (credentials, TLS) plus Sentinel or Cluster nodes. */
  redis: RedisSettings;
  configFile: string;
  roles: Role[];
  /** Every Redis key of ours and BullMQ's starts with this; always a Cluster hash tag (`{k8s-chatops}`), so each script's keys share a slot. */
  queuePrefix: string;
  /** HMAC key for what the bot writes to Redis, and the previous one during a rotation. */
  signingKey: string;
  signingKeyPrevious?: string;
  /** How long a job stays claimed by a worker that stopped answering before another worker takes it over. */
  jobLockMs: number;
  /** How long the alerts leader's Lease lasts without renewal: a dead leader is replaced within it (renew deadline and retry period follow from it). */
  leaderLeaseMs: number;
  /** How often running canaries are checked (pods, auto-abort, their live message). */
  canaryWatchMs: number;
  /** At shutdown, how long running jobs may still finish before they are handed to another worker. */
  shutdownGraceMs: number;
  logLevel: string;
}

export class SettingsError extends Error {}

export const DEFAULT_QUEUE_PREFIX = 'k8s-chatops';

/** A prefix without a {hash tag} gets one around it: every key then lands in one Cluster slot. */
export function hashTaggedPrefix(prefix: string): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** `--role X` on the command line wins over CHATOPS_ROLE; neither = every role in one process. */
export function roleFromArgs(argv: readonly string[]): Role | undefined {
  const index = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (index < 0) return undefined;
  const value = argv[index]!.includes('=') ? argv[index]!.split('=')[1] : argv[index + 1];
  if (!ROLES.includes(value as Role)) throw new SettingsError(`--role must be one of ${ROLES.join(', ')} (got "${value ?? ''}")`);
  return value as Role;
}

/** Where Redis is, from the same variables the bot reads (REDIS_URL, REDIS_TLS_CA, REDIS_SENTINELS…, REDIS_CLUSTER_NODES): for `check`. */
export function loadRedisSettings(env: NodeJS.ProcessEnv): RedisSettings {
  const schema = settingsSchema.pick({
    REDIS_URL: true,
    REDIS_TLS_CA: true,
    REDIS_SENTINELS: true,
    REDIS_SENTINEL_NAME: true,
    REDIS_SENTINEL_PASSWORD: true,
    REDIS_CLUSTER_NODES: true,
  });
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success)
    throw new SettingsError(
      `invalid environment:\n${formatIssues(parsed.error.issues)
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
  return redisSettingsOf(parsed.data);
}

function redisSettingsOf(s: {
  REDIS_URL: string;
  REDIS_TLS_CA?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
}): RedisSettings {
  if (s.REDIS_SENTINELS && s.REDIS_CLUSTER_NODES)
    throw new SettingsError('invalid environment:\n  - REDIS_SENTINELS and REDIS_CLUSTER_NODES: set one or the other, not both');
  if (s.REDIS_SENTINELS && !s.REDIS_SENTINEL_NAME)
    throw new SettingsError(
      'invalid environment:\n  - REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name, e.g. mymaster)',
    );
  return {
    url: s.REDIS_URL,
    ...(s.REDIS_TLS_CA ? { tlsCaFile: s.REDIS_TLS_CA } : {}),
    ...(s.REDIS_SENTINELS ? { sentinels: parseHostList(s.REDIS_SENTINELS)!, sentinelName: s.REDIS_SENTINEL_NAME! } : {}),
    ...(s.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: s.REDIS_SENTINEL_PASSWORD } : {}),
    ...(s.REDIS_CLUSTER_NODES ? { clusterNodes: parseHostList(s.REDIS_CLUSTER_NODES)! } : {}),
  };
}

export function loadSettings(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Settings {
  const parsed = settingsSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success)
    throw new SettingsError(
      `invalid environment:\n${formatIssues(parsed.error.issues)
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
  const s = parsed.data;
  const role = roleFromArgs(argv) ?? s.CHATOPS_ROLE;
  const roles: Role[] = role ? [role] : [...ROLES];
  if (!s.SLACK_APP_TOKEN && roles.includes('app') && !s.SLACK_SIGNING_SECRET) {
    throw new SettingsError(
      'invalid environment:\n  - SLACK_SIGNING_SECRET: is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  const redis = redisSettingsOf(s);
  return {
    botToken: s.SLACK_BOT_TOKEN,
    signingSecret: s.SLACK_SIGNING_SECRET ?? '',
    ...(s.SLACK_APP_TOKEN ? { appToken: s.SLACK_APP_TOKEN } : {}),
    ...(s.SLACK_API_URL ? { apiUrl: s.SLACK_API_URL.endsWith('/') ? s.SLACK_API_URL : `${s.SLACK_API_URL}/` } : {}),
    port: s.PORT,
    redisUrl: s.REDIS_URL,
    redis,
    configFile: s.CHATOPS_CONFIG,
    roles,
    queuePrefix: hashTaggedPrefix(s.CHATOPS_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX),
    signingKey: s.CHATOPS_SIGNING_KEY,
    ...(s.CHATOPS_SIGNING_KEY_PREVIOUS ? { signingKeyPrevious: s.CHATOPS_SIGNING_KEY_PREVIOUS } : {}),
    jobLockMs: s.CHATOPS_JOB_LOCK_MS,
    leaderLeaseMs: s.CHATOPS_LEADER_LEASE_MS,
    canaryWatchMs: s.CHATOPS_CANARY_WATCH_MS,
    shutdownGraceMs: s.CHATOPS_SHUTDOWN_GRACE_MS,
    logLevel: s.LOG_LEVEL,
  };
}
