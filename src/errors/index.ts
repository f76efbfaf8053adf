import { randomBytes } from 'node:crypto';

/**
 * Errors are values the user can read. Every error that may reach Slack is a
 * ChatOpsError with a user message; anything else is internal and is shown as
 * "internal error (ref …)" while the cause goes to the log with the same ref.
 */
export type ErrorKind = 'bad_input' | 'denied' | 'not_found' | 'conflict' | 'unavailable' | 'internal';

export class ChatOpsError extends Error {
  readonly kind: ErrorKind;
  readonly userMessage: string;
  /** Retry the job later? Only transient failures do. */
  readonly retryable: boolean;

  constructor(kind: ErrorKind, userMessage: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatOpsError';
    this.kind = kind;
    this.userMessage = userMessage;
    this.retryable = options.retryable ?? kind === 'unavailable';
  }
}

export const badInput = (message: string, cause?: unknown) => new ChatOpsError('bad_input', message, { cause });
export const denied = (message: string) => new ChatOpsError('denied', message);
export const notFound = (message: string, cause?: unknown) => new ChatOpsError('not_found', message, { cause });
export const conflict = (message: string, cause?: unknown) => new ChatOpsError('conflict', message, { cause });
export const unavailable = (message: string, cause?: unknown) => new ChatOpsError('unavailable', message, { cause });

export function isChatOpsError(err: unknown): err is ChatOpsError {
  return err instanceof ChatOpsError;
}

export function newErrorRef(): string {
  return randomBytes(3).toString('hex');
}

export interface UserFacingError {
  text: string;
  /** Set for internal errors: the ref shown to the user and logged with the cause. */
  ref?: string;
  retryable: boolean;
}

/** The one place where any error becomes what Slack shows. */
export function describeError(err: unknown, log?: { error: (obj: object, msg: string) => void }): UserFacingError {
  if (isChatOpsError(err)) {
    const icon = err.kind === 'denied' ? ':no_entry:' : err.kind === 'unavailable' ? ':hourglass:' : ':warning:';
    return { text: `${icon} ${err.userMessage}`, retryable: err.retryable };
  }
  const ref = newErrorRef();
  log?.error({ err, ref }, 'internal error');
  return {
    text: `:boom: internal error (ref ${ref}) — the details are in the bot's log; tell the ops team this ref.`,
    ref,
    retryable: false,
  };
}
