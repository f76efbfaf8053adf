import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A button that runs a command ("Rollback", "Yes, scale to 0", "Restart") carries
 * only an opaque id; the command it stands for lives here, server-side, and runs
 * as the clicker with every check a typed command gets.
 */
export interface CommandIntent {
  /** The command text, as if typed after /k8s. */
  text: string;
  /** Channel the button was posted in: a click from elsewhere is refused. */
  channelId: string;
  /** Thread the resulting job reports in (the thread the button sits in). */
  threadTs?: string;
}

export const RUN_INTENT_ACTION = 'chatops_run';

export class IntentStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(id: string): string {
    return `${this.prefix}:chatops:intent:${id}`;
  }

  async create(intent: CommandIntent, ttlMs = 24 * 3_600_000): Promise<string> {
    const id = randomBytes(9).toString('base64url');
    await this.redis.set(this.key(id), JSON.stringify(intent), 'PX', ttlMs);
    return id;
  }

  async get(id: string): Promise<CommandIntent | undefined> {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as CommandIntent) : undefined;
  }
}
