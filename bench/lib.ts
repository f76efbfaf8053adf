/** Small helpers shared by the benchmarks: percentiles, an open-loop load generator, a report table. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}

/**
 * Sends `send()` at a fixed rate for `seconds` (open loop: a slow answer does not
 * slow the schedule down), and returns every latency in ms.
 */
export async function atRate(ratePerSecond: number, seconds: number, send: (i: number) => Promise<number>): Promise<number[]> {
  const total = Math.round(ratePerSecond * seconds);
  const interval = 1_000 / ratePerSecond;
  const started = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(i));
  }
  return Promise.all(pending);
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;

export function row(name: string, measured: string, target: string, ok: boolean): string {
  return `${ok ? 'PASS' : 'MISS'}  ${name.padEnd(46)} ${measured.padEnd(40)} target: ${target}`;
}

export function benchSeconds(defaultSeconds: number): number {
  const fromEnv = Number(process.env.BENCH_SECONDS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : defaultSeconds;
}
