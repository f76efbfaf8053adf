import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import type { AuditLog } from '../audit/index.js';
import type { CommandJobData } from '../queue/commands.js';
import type { IntentStore } from './intents.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { Signer } from '../security/signing.js';
import type { TargetLocks } from '../queue/target-lock.js';
import type { CommandJobs } from '../queue/command-jobs.js';

/** Shared services a verb may use, built once per process from config. */
export interface Services {
  queue: Queue<CommandJobData>;
  audit: AuditLog;
  intents: IntentStore;
  /** Slack Web API (bot token): threads, file uploads, updates to messages a verb did not post itself. */
  slack: WebClient;
  /** Production changes waiting for approval. */
  approvals: ApprovalStore;
  /** For small state of our own (locks, approvals); keys go under `prefix`. */
  redis: Redis;
  prefix: string;
  /** One write job per (environment, app) at a time, and the long holds of a canary. */
  locks: TargetLocks;
  /** Unfinished command jobs, read with their locks (jobs, cancel). */
  jobs: CommandJobs;
  /** Signs what we write to Redis and verifies what we read back (CHATOPS_SIGNING_KEY). */
  signer: Signer;
}
