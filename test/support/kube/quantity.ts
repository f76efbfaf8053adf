/** Resource quantities via client-node's parser (not exported from its index: deep import of dist/util.js). */
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';

const BIN: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DEC: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Quantity → number (cores for cpu, bytes for memory). */
export function quantity(q: string | number | undefined | null): number {
  if (q === undefined || q === null || q === '') return 0;
  if (typeof q === 'number') return q;
  try {
    return Number(quantityToScalar(q));
  } catch {
    // client-node's parser refuses fractional suffixed values like "1.5Gi"
    const m = /^([0-9.]+)([A-Za-z]*)$/.exec(q.trim());
    if (!m) return 0;
    const n = Number(m[1]);
    const s = m[2] ?? '';
    return n * (BIN[s] ?? DEC[s] ?? 1);
  }
}

export function milliCpu(q: string | number | undefined | null): number {
  return Math.round(quantity(q) * 1000);
}

export function formatMemory(bytes: number): string {
  for (const [s, f] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes % f === 0 && bytes >= f) return `${bytes / f}${s}`;
  }
  return String(bytes);
}
