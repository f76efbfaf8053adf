import type { Redis } from 'ioredis';
import { TamperedRecordError, type Signer } from '../security/signing.js';
import type { SlackMessage } from '../slack/blocks.js';

/**
 * A running canary, as the bot remembers it between jobs and across restarts
 * (the cluster holds the same facts in the canary Deployment's labels and
 * annotations). Signed like every record of ours in Redis.
 */
export interface CanaryRecord {
  /** The request that started it; names its jobs and the canary Deployment's annotation. */
  id: string;
  env: string;
  app: string;
  namespace: string;
  /** The stable Deployment (never written while the canary runs) and the canary one. */
  stable: string;
  canary: string;
  container: string;
  version: string;
  image: string;
  stableImage: string;
  steps: number[];
  /** Index into `steps` of the share the canary runs at now. */
  step: number;
  stableReplicas: number;
  canaryReplicas: number;
  stableGeneration: number;
  startedAt: number;
  /** When the maxDuration job aborts it. */
  expiresAt: number;
  userId: string;
  userName?: string;
  channelId: string;
  /** Thread the canary reports in, and its live message (chat.update). */
  threadTs?: string;
  messageTs?: string;
  maxRestarts: number;
  maxUnready: number;
  /** The stable's revision when the first full promote began: abort rolls it back there if the promote did not finish. */
  promotedFrom?: number;
  /** Button intents: Promote (next step), Promote fully, Abort. */
  buttons: { promote?: string; full: string; abort: string };
}

/** The live message's last content (what changed) and when it was updated: the update rate bound. */
export interface ViewState {
  key: string;
  at: number;
}

/** A blue/green release kept switchable: the Service points at `live`, `old` still runs until `keepUntil`. */
export interface BlueGreenRecord {
  id: string;
  env: string;
  app: string;
  namespace: string;
  service: string;
  version: string;
  image: string;
  /** The new colour's Deployment (live) and the one it replaced (kept for Switch back). */
  live: string;
  old: string;
  oldImage: string;
  liveSelector: Record<string, string>;
  oldSelector: Record<string, string>;
  switchedAt: number;
  keepUntil: number;
  userId: string;
  userName?: string;
  channelId: string;
  threadTs?: string;
  /** The message carrying the Switch back button. */
  messageTs?: string;
}

/** Records of running progressive releases (canaries, blue/green), one per (env, app) and kind, signed. */
export class CanaryStore<T extends { env: string; app: string } = CanaryRecord> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly signer: Signer,
    private readonly kind: 'canary' | 'bluegreen' = 'canary',
  ) {}

  private key(env: string, app: string): string {
    return `${this.prefix}:chatops:${this.kind}:${env}:${app}`;
  }

  private get index(): string {
    return `${this.prefix}:chatops:${this.kind}-index`;
  }

  async save(record: T): Promise<void> {
    const raw = JSON.stringify({ record, sig: this.signer.sign(this.kind, record) });
    await this.redis.multi().set(this.key(record.env, record.app), raw).sadd(this.index, `${record.env}/${record.app}`).exec();
  }

  /** The running canary of (env, app); throws TamperedRecordError when its signature fails. */
  async get(env: string, app: string): Promise<T | undefined> {
    const raw = await this.redis.get(this.key(env, app));
    if (!raw) return undefined;
    let stored: { record?: T; sig?: unknown };
    try {
      stored = JSON.parse(raw) as typeof stored;
    } catch {
      throw new TamperedRecordError(this.kind, `${env}/${app}`);
    }
    if (!stored.record || !this.signer.verify(this.kind, stored.record, stored.sig))
      throw new TamperedRecordError(this.kind, `${env}/${app}`);
    return stored.record;
  }

  async remove(env: string, app: string): Promise<void> {
    const key = this.key(env, app);
    await this.redis.multi().del(key, `${key}:view`, `${key}:auto-abort`).srem(this.index, `${env}/${app}`).exec();
  }

  /** Kept apart from the signed record, so the watcher never rewrites what the verbs own. */
  async lastView(env: string, app: string): Promise<ViewState | undefined> {
    const raw = await this.redis.get(`${this.key(env, app)}:view`);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as ViewState;
    } catch {
      return undefined;
    }
  }

  async saveView(env: string, app: string, view: ViewState): Promise<void> {
    await this.redis.set(`${this.key(env, app)}:view`, JSON.stringify(view), 'PX', 24 * 3_600_000);
  }

  /** The final message of an ended release, kept a few minutes for a watcher check that was under way. */
  async saveEnded(id: string, message: SlackMessage): Promise<void> {
    await this.redis.set(`${this.prefix}:chatops:${this.kind}-ended:${id}`, JSON.stringify(message), 'PX', 10 * 60_000);
  }

  async ended(id: string): Promise<SlackMessage | undefined> {
    const raw = await this.redis.get(`${this.prefix}:chatops:${this.kind}-ended:${id}`);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as SlackMessage;
    } catch {
      return undefined;
    }
  }

  /** True the first time for this canary: the watcher asks for an automatic abort once. */
  async markAutoAbort(env: string, app: string, id: string): Promise<boolean> {
    return (await this.redis.set(`${this.key(env, app)}:auto-abort`, id, 'PX', 24 * 3_600_000, 'NX')) === 'OK';
  }

  /** Every (env, app) with a running canary. */
  async list(): Promise<Array<{ env: string; app: string }>> {
    const members = await this.redis.smembers(this.index);
    return members.flatMap((m) => {
      const [env, app] = m.split('/');
      return env && app ? [{ env, app }] : [];
    });
  }

  /** One replica handles each canary per tick: true if this process got it. */
  async claimTick(env: string, app: string, ms: number): Promise<boolean> {
    return (await this.redis.set(`${this.key(env, app)}:tick`, '1', 'PX', Math.max(100, ms), 'NX')) === 'OK';
  }
}
