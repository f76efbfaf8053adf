import pino from 'pino';

/** Tokens and secrets must never reach the log, whatever object holds them. */
const redact = {
  paths: [
    'token',
    '*.token',
    'botToken',
    '*.botToken',
    'appToken',
    '*.appToken',
    'signingSecret',
    '*.signingSecret',
    'headers.authorization',
    '*.headers.authorization',
    'req.headers.authorization',
    'headers["x-slack-signature"]',
    'password',
    '*.password',
    'bearerToken',
    '*.bearerToken',
  ],
  censor: '[redacted]',
};

export type Logger = pino.Logger;

/** Fields of an error that say what failed and never carry a payload (a client's request, headers, command arguments). */
const ERROR_FIELDS = ['code', 'statusCode', 'status', 'errno', 'syscall', 'kind', 'ref'] as const;

/**
 * `{ err }` in a log line: type, message, stack, a few plain fields and the cause
 * chain. Not every enumerable property as pino's own serialiser would: some
 * clients hang what they sent on their errors (ioredis keeps a failed AUTH's
 * arguments, the password among them), and a secret must never reach the log.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const fields = err as unknown as Record<string, unknown>;
  const plain = Object.fromEntries(
    ERROR_FIELDS.filter((k) => ['string', 'number', 'boolean'].includes(typeof fields[k])).map((k) => [k, fields[k]]),
  );
  return {
    type: err.constructor.name,
    message: err.message,
    ...(err.stack ? { stack: err.stack } : {}),
    ...plain,
    ...(err.cause !== undefined && depth < 5 ? { cause: serializeError(err.cause, depth + 1) } : {}),
  };
}

/** The bot's logger; `destination` (default stdout) lets a test read what it writes. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options = { level, redact, base: { service: 'k8s-chatops' }, serializers: { err: (err: unknown) => serializeError(err) } };
  return destination ? pino(options, destination) : pino(options);
}
