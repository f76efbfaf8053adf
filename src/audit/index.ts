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

// XADD unless an entry was already written under this once-key (both keys share the prefix's hash tag, so one slot).
const RECORD_ONCE = `if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return false`;

/** How long a once-key is kept: a copy of a job comes within minutes (a day at most: older jobs are refused). */
const ONCE_TTL_MS = 24 * 3_600_000;

/**
 * Every action, in a Redis stream of bounded length (and as a structured log line):
 * who, which channel, what, the outcome and when.
 */
export class AuditLog {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly maxLength = 10_000,
  ) {
    this.key = `${prefix}:chatops:audit`;
  }

  /**
   * `once`: an id of what the entry records (a job's run and outcome). A second record with the same id writes
   * nothing — a copy of a job whose worker died around its audit entry may write it without doubling it.
   */
  async record(entry: AuditEntry, once?: string): Promise<void> {
    const full = { ...entry, at: entry.at ?? Date.now() };
    const fields = Object.entries(full).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    try {
      if (!once) await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLength), '*', ...fields);
      else if (
        !(await this.redis.eval(
          RECORD_ONCE,
          2,
          this.key,
          `${this.prefix}:chatops:audit-once:${once}`,
          ONCE_TTL_MS,
          this.maxLength,
          ...fields,
        ))
      )
        return;
      this.log.info({ audit: full }, `audit: ${full.outcome} ${full.verb}`);
    } catch (err) {
      // This log line still holds the record; an audit write must not fail the user's command.
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
