/**
 * Kubernetes timestamps as milliseconds. client-node types them as `Date`, but
 * objects read as plain JSON (watches, our paged lists, slimmed caches) carry
 * RFC 3339 strings: one helper accepts both, so no caller needs a cast.
 */
export function timeMs(t: Date | string | number | undefined | null): number {
  if (t === undefined || t === null || t === '') return NaN;
  if (typeof t === 'number') return t;
  return (t instanceof Date ? t : new Date(t)).getTime();
}

/** Like timeMs, with `fallback` when the time is absent or unreadable. */
export function timeMsOr(t: Date | string | number | undefined | null, fallback: number): number {
  const ms = timeMs(t);
  return Number.isFinite(ms) ? ms : fallback;
}
