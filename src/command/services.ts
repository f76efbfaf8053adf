import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/index.js';
import type { CommandJobData } from '../queue/commands.js';
import type { IntentStore } from '../slack/intents.js';

/** Shared services a verb may use, built once per process from config. */
export interface Services {
  queue: Queue<CommandJobData>;
  audit: AuditLog;
  intents: IntentStore;
  /** For small state of our own (locks, approvals); keys go under `prefix`. */
  redis: Redis;
  prefix: string;
}
