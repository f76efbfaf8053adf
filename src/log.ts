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

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact, base: { service: 'k8s-chatops' } });
}
