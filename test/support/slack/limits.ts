/** Fault injection (failNext) and the per-channel write rate limit. */
import { fail, rateLimited, type Answer } from './http.js';
import type { SlackFailure } from './types.js';

export class Limits {
  private failures = new Map<string, { failure: SlackFailure; remaining: number }[]>();
  private channelLimit: { perSecond: number; burst: number } | null = null;
  private buckets = new Map<string, { tokens: number; last: number }>();
  private latencies = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  failNext(method: string, failure: SlackFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ failure, remaining: times });
    this.failures.set(method, queue);
  }

  /** The next injected failure for `method`, consuming it. */
  injected(method: string): Answer | undefined {
    const queue = this.failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    const f = head.failure;
    if (f.status === 429) return rateLimited(f.retryAfter ?? 1, f.error ?? 'ratelimited');
    if (f.status !== undefined && f.status !== 200) return { status: f.status, body: { ok: false, error: f.error ?? 'internal_error' } };
    return fail(f.error ?? 'fatal_error');
  }

  /** Slack slow to answer `method` (a degraded API): every call to it is answered after `ms`. */
  setLatency(method: string, ms: number | null): void {
    if (ms === null) this.latencies.delete(method);
    else this.latencies.set(method, ms);
  }

  latency(method: string): number {
    return this.latencies.get(method) ?? 0;
  }

  setChannelRateLimit(limit: { perSecond: number; burst?: number } | null): void {
    this.buckets.clear();
    this.channelLimit = limit ? { perSecond: limit.perSecond, burst: limit.burst ?? Math.max(1, Math.ceil(limit.perSecond * 2)) } : null;
  }

  /** Token bucket per channel: undefined when the write may go, else a 429 answer. */
  takeChannelToken(channel: string): Answer | undefined {
    const limit = this.channelLimit;
    if (!limit) return undefined;
    const now = this.now();
    const b = this.buckets.get(channel) ?? { tokens: limit.burst, last: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.last) / 1000) * limit.perSecond);
    b.last = now;
    this.buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return rateLimited(Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond)));
  }

  reset(): void {
    this.failures.clear();
    this.latencies.clear();
    this.channelLimit = null;
    this.buckets.clear();
  }
}
