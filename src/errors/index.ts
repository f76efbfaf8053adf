import { randomBytes } from 'node:crypto';

/**
 * Errors are values the user can read. Every error that may reach Slack is a
 * ChatOpsError with a user message; anything else is internal and is shown as
 * "internal error (ref …)" while the cause goes to the log with the same ref.
 */
export type ErrorKind = 'bad_input' | 'denied' | 'not_found' | 'conflict' | 'unavailable' | 'internal';

/** Stable codes users and logs can quote (shown in the reply's context line, logged as `code`). Never renamed. */
export type ErrorCode = 'E_BAD_INPUT' | 'E_DENIED' | 'E_NOT_FOUND' | 'E_CONFLICT' | 'E_UNAVAILABLE' | 'E_INTERNAL';

/** What an error of a kind becomes, on every path (slash command, button, worker). */
export interface ErrorHandling {
  code: ErrorCode;
  /** In front of the user message. */
  icon: string;
  /** The command's outcome when it fails before it is queued (the commands metric's label). */
  outcome: 'bad_input' | 'denied' | 'unavailable' | 'error';
  /** What the audit records when a command is refused before it is queued; none: not recorded there. */
  audit?: 'denied' | 'rejected_input';
  logLevel: 'info' | 'warn' | 'error';
  /**
   * The log carries the error itself (message, stack, cause). Not for refusals:
   * their message may quote what was typed, and typed text may hold a secret.
   */
  logCause: boolean;
  /** Transient: a job that fails this way is tried again while it has attempts left. */
  retried: boolean;
}

/** The one table from error kind to outcome. */
export const ERROR_HANDLING: Readonly<Record<ErrorKind, ErrorHandling>> = {
  bad_input: {
    code: 'E_BAD_INPUT',
    icon: ':warning:',
    outcome: 'bad_input',
    audit: 'rejected_input',
    logLevel: 'info',
    logCause: false,
    retried: false,
  },
  denied: { code: 'E_DENIED', icon: ':no_entry:', outcome: 'denied', audit: 'denied', logLevel: 'info', logCause: false, retried: false },
  not_found: {
    code: 'E_NOT_FOUND',
    icon: ':warning:',
    outcome: 'bad_input',
    audit: 'rejected_input',
    logLevel: 'info',
    logCause: false,
    retried: false,
  },
  conflict: { code: 'E_CONFLICT', icon: ':warning:', outcome: 'error', logLevel: 'warn', logCause: true, retried: false },
  unavailable: { code: 'E_UNAVAILABLE', icon: ':hourglass:', outcome: 'unavailable', logLevel: 'warn', logCause: true, retried: true },
  internal: { code: 'E_INTERNAL', icon: ':boom:', outcome: 'error', logLevel: 'error', logCause: true, retried: false },
};

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
    this.retryable = options.retryable ?? ERROR_HANDLING[kind].retried;
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
  kind: ErrorKind;
  /** The stable code of its kind (`E_DENIED`), for the reply's context line and the logs. */
  code: ErrorCode;
  /** Set for internal errors: the ref shown to the user and logged with the cause. */
  ref?: string;
  retryable: boolean;
}

/** The kind an error counts as: its own, or internal for anything that is not a ChatOpsError. */
export function errorKind(err: unknown): ErrorKind {
  return isChatOpsError(err) ? err.kind : 'internal';
}

/** The one place where any error becomes what Slack shows. An internal error is logged here, with a ref the user can quote. */
export function describeError(err: unknown, log?: { error: (obj: object, msg: string) => void }): UserFacingError {
  const kind = errorKind(err);
  const { code, icon } = ERROR_HANDLING[kind];
  if (isChatOpsError(err)) {
    return { text: `${icon} ${err.userMessage}`, kind, code, retryable: err.retryable };
  }
  const ref = newErrorRef();
  log?.error({ err, code, ref }, 'internal error');
  return {
    text: `${icon} internal error (ref ${ref}) — the details are in the bot's log; tell the ops team this ref.`,
    kind,
    code,
    ref,
    retryable: false,
  };
}

type LogFn = (obj: object, msg: string) => void;

/**
 * Logs a failure at its kind's level with its code; the error itself (stack and
 * cause, serialised by pino) only for kinds whose message cannot quote user input.
 * Internal errors are already logged by `describeError`.
 */
export function logFailure(
  log: { info: LogFn; warn: LogFn; error: LogFn },
  err: unknown,
  described: UserFacingError,
  msg: string,
  extra: object = {},
): void {
  if (described.ref) return;
  const h = ERROR_HANDLING[described.kind];
  log[h.logLevel]({ ...extra, code: described.code, ...(h.logCause ? { err } : {}) }, msg);
}
