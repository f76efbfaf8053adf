import type { Redis } from 'ioredis';

/** Who holds a target, shown to whoever waits for it. */
export interface LockHolder {
  jobId: string;
  userId: string;
  description: string;
  since: number;
  /**
   * Set on a long hold (a running canary, a blue/green switch kept for switching back): the
   * target stays taken between jobs. Only `verbs` may act on it meanwhile (one at a time, on a
   * second lock); any other write is refused with `hint`.
   */
  hold?: {
    verbs: string[];
    hint: string;
    /** The request whose job set the hold: that job, run again after a crash, may still finish what it started. */
    requestId?: string;
  };
}

export type LockResult =
  | {
      acquired: true;
      release: () => Promise<void>;
      /**
       * Stops renewing and stretches the lease to the hand-over lease: the job, resumed under the same id,
       * takes it back; nobody else meanwhile, even if the bot's restart takes minutes.
       */
      handOver: () => Promise<void>;
    }
  | { acquired: false; holder: LockHolder | undefined };

// Renew or release only if we still hold it (compare-and-set on the job id).
const RENEW = `local v = redis.call('GET', KEYS[1]); if v and cjson.decode(v).jobId == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `local v = redis.call('GET', KEYS[1]); if v and cjson.decode(v).jobId == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Take the lock if free, or if this same job holds it already (a retry after a crash).
const ACQUIRE = `local v = redis.call('GET', KEYS[1]);
if (not v) or cjson.decode(v).jobId == cjson.decode(ARGV[1]).jobId then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); return nil
end
return v`;

/**
 * How long a target stays taken for a job handed over at shutdown (half-changed app): long enough
 * for a rolling restart that pulls an image or waits for a node, short enough that a bot never
 * started again does not keep the app locked for the day.
 */
export const HANDOVER_LEASE_MS = 15 * 60_000;

/** The lease of a target lock: outlives a job's BullMQ lock twice over, so a job that is still running keeps its target. */
export function targetLeaseMs(jobLockMs = 30_000): number {
  return 2 * jobLockMs + 5_000;
}

/**
 * At most one write job per (environment, app). The lock is a lease: renewed
 * while the job runs, and it expires on its own if the holder dies.
 */
export class TargetLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs = 30_000,
    private readonly handOverLeaseMs = HANDOVER_LEASE_MS,
  ) {}

  key(env: string, app: string): string {
    return `${this.prefix}:chatops:lock:${env}:${app}`;
  }

  async acquire(env: string, app: string, holder: LockHolder): Promise<LockResult> {
    const key = this.key(env, app);
    const current = (await this.redis.eval(ACQUIRE, 1, key, JSON.stringify(holder), String(this.leaseMs))) as string | null;
    if (current !== null) {
      try {
        return { acquired: false, holder: JSON.parse(current) as LockHolder };
      } catch {
        return { acquired: false, holder: undefined };
      }
    }
    const timer = setInterval(
      () => {
        void this.redis.eval(RENEW, 1, key, holder.jobId, String(this.leaseMs)).catch(() => undefined);
      },
      Math.floor(this.leaseMs / 3),
    );
    timer.unref();
    return {
      acquired: true,
      release: async () => {
        clearInterval(timer);
        await this.redis.eval(RELEASE, 1, key, holder.jobId).catch(() => undefined);
      },
      handOver: async () => {
        clearInterval(timer);
        await this.redis.eval(RENEW, 1, key, holder.jobId, String(Math.max(this.leaseMs, this.handOverLeaseMs)));
      },
    };
  }

  /**
   * Keeps the target taken after the job that holds it ends, for `ttlMs` (a canary's life):
   * called by the running job while it holds the lock, so nobody else can hold it meanwhile.
   */
  async hold(env: string, app: string, holder: LockHolder, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(env, app), JSON.stringify(holder), 'PX', Math.max(1_000, Math.round(ttlMs)));
  }

  /** Ends a hold taken with `hold` (only that one: compare-and-delete on its id). */
  async releaseHold(env: string, app: string, holdId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(env, app), holdId);
  }

  async holder(env: string, app: string): Promise<LockHolder | undefined> {
    const raw = await this.redis.get(this.key(env, app));
    return raw ? (JSON.parse(raw) as LockHolder) : undefined;
  }
}
