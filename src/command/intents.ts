import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TamperedRecordError, type Signer } from '../security/signing.js';

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
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly signer: Signer,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:chatops:intent:${id}`;
  }

  async create(intent: CommandIntent, ttlMs = 24 * 3_600_000): Promise<string> {
    const id = randomBytes(9).toString('base64url');
    // Signed with its id, so a stored intent cannot be moved under another button.
    await this.redis.set(this.key(id), JSON.stringify({ intent, sig: this.signer.sign('intent', { id, intent }) }), 'PX', ttlMs);
    return id;
  }

  /** The intent, or undefined if unknown; throws TamperedRecordError if it fails verification. */
  async get(id: string): Promise<CommandIntent | undefined> {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return undefined;
    let stored: { intent?: CommandIntent; sig?: unknown };
    try {
      stored = JSON.parse(raw) as typeof stored;
    } catch {
      throw new TamperedRecordError('intent', id);
    }
    if (!stored.intent || !this.signer.verify('intent', { id, intent: stored.intent }, stored.sig))
      throw new TamperedRecordError('intent', id);
    return stored.intent;
  }
}
