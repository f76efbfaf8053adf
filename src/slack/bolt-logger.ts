import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.js';

const WITHHELD = '[payload not logged]';

/**
 * Bolt and Socket Mode print whole payloads at debug ("Received a message on the
 * WebSocket: {…}", the request body, ack bodies): `config set` values, response_urls.
 * Everything from the first JSON bracket on is cut, and a line naming a response_url
 * or a Slack hook is withheld whole.
 */
export function withoutPayload(line: string): string {
  if (/response_url|hooks\.slack\.com|envelope_id|"payload"|"token"/.test(line)) return WITHHELD;
  const bracket = line.search(/[{[]/);
  return bracket < 0 ? line : `${line.slice(0, bracket)}${WITHHELD}`;
}

/** Bolt logs through our pino logger (same format, same redaction), never with raw payloads. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const fmt = (msgs: unknown[]) =>
    withoutPayload(msgs.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' '));
  return {
    debug: (...m: unknown[]) => child.debug(fmt(m)),
    info: (...m: unknown[]) => child.info(fmt(m)),
    warn: (...m: unknown[]) => child.warn(fmt(m)),
    error: (...m: unknown[]) => child.error(fmt(m)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => {},
  };
}
