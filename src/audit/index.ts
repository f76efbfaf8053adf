import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export type AuditOutcome =
  | 'accepted'
  | 'denied'
  | 'rejected_input'
  | 'approval_requested'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'succeeded'
  | 'failed'
  /** A record in Redis failed signature verification (forged or edited); refused, never run. */
  | 'refused_tampered';

export interface AuditEntry {
  /** Milliseconds since the epoch; set by record() when absent. */
  at?: number;
  outcome: AuditOutcome;
  verb: string;
  /** The command as typed (validated input only; never secrets). */
  command: string;
  userId: string;
  channelId: string;
  env?: string;
  app?: string;
  /** Job or approval this entry belongs to. */
  ref?: string;
  /** Free text: reason for a denial, failure, who approved, the image deployed… */
  detail?: string;
}

export type StoredAuditEntry = AuditEntry & { id: string; at: number };

/**
 * Every action, in a Redis stream of bounded length (and as a structured log line):
 * who, which channel, what, the outcome and when.
 */
export class AuditLog {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly log: Logger,
    private readonly maxLength = 10_000,
  ) {
    this.key = `${prefix}:chatops:audit`;
  }

  async record(entry: AuditEntry): Promise<void> {
    const full = { ...entry, at: entry.at ?? Date.now() };
    this.log.info({ audit: full }, `audit: ${full.outcome} ${full.verb}`);
    const fields = Object.entries(full).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    try {
      await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLength), '*', ...fields);
    } catch (err) {
      // The log line above still holds the record; an audit write must not fail the user's command.
      this.log.error({ err, audit: full }, 'could not write the audit stream');
    }
  }

  /** Newest first, filtered by app and env when given. */
  async recent(filter: { app?: string; env?: string; verb?: string; limit?: number } = {}): Promise<StoredAuditEntry[]> {
    const limit = filter.limit ?? 20;
    const out: StoredAuditEntry[] = [];
    let end = '+';
    // Read in pages until enough matching entries are found or the stream ends.
    for (let page = 0; page < 20 && out.length < limit; page++) {
      const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', 500);
      if (rows.length === 0) break;
      for (const [id, flat] of rows) {
        const entry = toEntry(id, flat);
        if (
          (filter.app && entry.app !== filter.app) ||
          (filter.env && entry.env !== filter.env) ||
          (filter.verb && entry.verb !== filter.verb)
        )
          continue;
        out.push(entry);
        if (out.length >= limit) break;
      }
      const lastId = rows[rows.length - 1]![0];
      end = `(${lastId}`;
      if (rows.length < 500) break;
    }
    return out;
  }
}

function toEntry(id: string, flat: string[]): StoredAuditEntry {
  const obj: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) obj[flat[i]!] = flat[i + 1]!;
  return {
    id,
    at: Number(obj.at),
    outcome: obj.outcome as AuditOutcome,
    verb: obj.verb ?? '',
    command: obj.command ?? '',
    userId: obj.userId ?? '',
    channelId: obj.channelId ?? '',
    ...(obj.env ? { env: obj.env } : {}),
    ...(obj.app ? { app: obj.app } : {}),
    ...(obj.ref ? { ref: obj.ref } : {}),
    ...(obj.detail ? { detail: obj.detail } : {}),
  };
}
