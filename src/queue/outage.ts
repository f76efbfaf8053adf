import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

function where(url: string): string {
  try {
    const u = new URL(url);
    return u.host || url;
  } catch {
    return 'REDIS_URL';
  }
}

const secondsText = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

export interface RedisOutage {
  /** For every Redis-backed component's 'error' event: while Redis is down it is counted, not logged. */
  error(what: string): (err: Error) => void;
  stop(): void;
}

/**
 * While Redis is down: one warning, then one summary every `summaryMs` (not a line
 * per reconnect attempt of every connection), and one line when it is back.
 * The producer connection's own events say when Redis went and came back.
 */
export function watchRedisOutage(producer: Redis, url: string, log: Logger, summaryMs = 30_000): RedisOutage {
  let downSince: number | undefined;
  let errors = 0;
  let cause = '';
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const goDown = (err?: Error & { code?: string }) => {
    errors++;
    if (downSince !== undefined || stopped) return;
    downSince = Date.now();
    cause = err?.code ?? err?.message ?? 'connection lost';
    log.warn(
      `Redis at ${where(url)} is unreachable (${cause}): commands are answered "try again later" and nothing is queued until it is back; reconnecting. Start one with \`docker run -d -p 6379:6379 redis:7\` or set REDIS_URL.`,
    );
    timer = setInterval(() => {
      log.warn(
        `Redis at ${where(url)} still unreachable after ${secondsText(Date.now() - downSince!)} (${errors} failed connection attempts since the last report); still reconnecting.`,
      );
      errors = 0;
    }, summaryMs);
    timer.unref();
  };
  const onError = (err: Error & { code?: string }) => goDown(err);
  const onReady = () => {
    if (downSince === undefined) return;
    log.info(`Redis at ${where(url)} is back after ${secondsText(Date.now() - downSince)}.`);
    downSince = undefined;
    errors = 0;
    clearInterval(timer);
  };
  producer.on('error', onError);
  producer.on('ready', onReady);
  return {
    error: (what) => (err: Error & { code?: string }) => {
      if (downSince !== undefined || (err.code && NETWORK_CODES.has(err.code))) return goDown(err);
      log.warn({ err }, `${what} error`);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      producer.off('error', onError);
      producer.off('ready', onReady);
    },
  };
}
