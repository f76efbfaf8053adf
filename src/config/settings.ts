import { z } from 'zod';
import { formatIssues } from './load.js';
import { DEFAULT_REDIS_URL } from '../queue/redis.js';

export const ROLES = ['app', 'worker', 'alerts'] as const;
export type Role = (typeof ROLES)[number];

/** Process settings from the environment. Secrets come only from here, never from the config file. */
const settingsSchema = z.object({
  SLACK_BOT_TOKEN: z.string({ error: 'is required: the bot token (xoxb-…) from your Slack app\'s OAuth & Permissions page' }).min(1),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z.string().default(DEFAULT_REDIS_URL),
  CHATOPS_CONFIG: z.string().default('./chatops.yaml'),
  CHATOPS_ROLE: z.enum(ROLES).optional(),
  CHATOPS_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  CHATOPS_JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export interface Settings {
  botToken: string;
  signingSecret: string;
  appToken?: string;
  apiUrl?: string;
  port: number;
  redisUrl: string;
  configFile: string;
  roles: Role[];
  queuePrefix?: string;
  /** How long a job stays claimed by a worker that stopped answering before another worker takes it over. */
  jobLockMs: number;
  logLevel: string;
}

export class SettingsError extends Error {}

/** `--role X` on the command line wins over CHATOPS_ROLE; neither = every role in one process. */
export function roleFromArgs(argv: readonly string[]): Role | undefined {
  const index = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (index < 0) return undefined;
  const value = argv[index]!.includes('=') ? argv[index]!.split('=')[1] : argv[index + 1];
  if (!ROLES.includes(value as Role)) throw new SettingsError(`--role must be one of ${ROLES.join(', ')} (got "${value ?? ''}")`);
  return value as Role;
}

export function loadSettings(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Settings {
  const parsed = settingsSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new SettingsError(`invalid environment:\n${formatIssues(parsed.error.issues).map((p) => `  - ${p}`).join('\n')}`);
  const s = parsed.data;
  const role = roleFromArgs(argv) ?? s.CHATOPS_ROLE;
  const roles: Role[] = role ? [role] : [...ROLES];
  if (!s.SLACK_APP_TOKEN && roles.includes('app') && !s.SLACK_SIGNING_SECRET) {
    throw new SettingsError('invalid environment:\n  - SLACK_SIGNING_SECRET: is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  }
  return {
    botToken: s.SLACK_BOT_TOKEN,
    signingSecret: s.SLACK_SIGNING_SECRET ?? '',
    ...(s.SLACK_APP_TOKEN ? { appToken: s.SLACK_APP_TOKEN } : {}),
    ...(s.SLACK_API_URL ? { apiUrl: s.SLACK_API_URL.endsWith('/') ? s.SLACK_API_URL : `${s.SLACK_API_URL}/` } : {}),
    port: s.PORT,
    redisUrl: s.REDIS_URL,
    configFile: s.CHATOPS_CONFIG,
    roles,
    ...(s.CHATOPS_QUEUE_PREFIX ? { queuePrefix: s.CHATOPS_QUEUE_PREFIX } : {}),
    jobLockMs: s.CHATOPS_JOB_LOCK_MS,
    logLevel: s.LOG_LEVEL,
  };
}
