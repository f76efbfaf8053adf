import { describe, expect, it } from 'vitest';
import {
  ERROR_HANDLING,
  badInput,
  conflict,
  denied,
  describeError,
  logFailure,
  notFound,
  unavailable,
  type ErrorKind,
} from '../../src/errors/index.js';
import { errorMessage } from '../../src/slack/errors.js';
import { serializeError } from '../../src/log.js';

/** A logger that keeps what it was given, by level. */
function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('error kinds', () => {
  it('each kind has its own stable code', () => {
    expect(Object.fromEntries(Object.entries(ERROR_HANDLING).map(([k, h]) => [k, h.code]))).toEqual({
      bad_input: 'E_BAD_INPUT',
      denied: 'E_DENIED',
      not_found: 'E_NOT_FOUND',
      conflict: 'E_CONFLICT',
      unavailable: 'E_UNAVAILABLE',
      internal: 'E_INTERNAL',
    });
  });

  it('only transient failures are retried', () => {
    const retried = (Object.keys(ERROR_HANDLING) as ErrorKind[]).filter((k) => ERROR_HANDLING[k].retried);
    expect(retried).toEqual(['unavailable']);
    expect(unavailable('x').retryable).toBe(true);
    expect(conflict('x').retryable).toBe(false);
  });

  it('describes a refusal with its icon and code, and shows the code in the context line', () => {
    const d = describeError(denied('This channel may not use `deploy`.'));
    expect(d).toMatchObject({ text: ':no_entry: This channel may not use `deploy`.', kind: 'denied', code: 'E_DENIED', retryable: false });
    const m = errorMessage(d);
    expect(m.text).toBe(d.text);
    expect(JSON.stringify(m.blocks)).toContain('error `E_DENIED`');
  });

  it('logs an internal error with its stack and a ref the reply shows', () => {
    const { lines, log } = recorder();
    const err = new Error('boom');
    const d = describeError(err, log);
    expect(d.code).toBe('E_INTERNAL');
    expect(d.text).toContain(`ref ${d.ref!}`);
    expect(lines).toEqual([{ level: 'error', obj: { err, code: 'E_INTERNAL', ref: d.ref }, msg: 'internal error' }]);
    expect(JSON.stringify(errorMessage(d).blocks)).toContain(`ref \`${d.ref!}\``);
    // Logged once: logFailure leaves it to describeError.
    logFailure(log, err, d, 'job failed');
    expect(lines).toHaveLength(1);
  });

  it('logs a refusal at info with its code but never its message (it may quote what was typed); a failure with the error itself', () => {
    const { lines, log } = recorder();
    for (const err of [badInput('bad `s3cret`'), notFound('no app `s3cret`'), denied('no')])
      logFailure(log, err, describeError(err), 'command not run', { verb: 'deploy' });
    expect(lines.map((l) => l.level)).toEqual(['info', 'info', 'info']);
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(lines[0]!.obj).toEqual({ verb: 'deploy', code: 'E_BAD_INPUT' });
    const err = unavailable('Redis is down');
    logFailure(log, err, describeError(err), 'job failed');
    expect(lines.at(-1)).toEqual({ level: 'warn', obj: { code: 'E_UNAVAILABLE', err }, msg: 'job failed' });
  });
});

describe("the log's error serialiser", () => {
  it('keeps type, message, stack, plain fields and the cause chain, never what a client hung on the error', () => {
    const cause = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['default', 's3cret-pass'] },
      code: 'WRONGPASS',
    });
    const shown = serializeError(unavailable('Redis is unreachable', cause)) as Record<string, unknown>;
    expect(shown).toMatchObject({
      type: 'ChatOpsError',
      message: 'Redis is unreachable',
      kind: 'unavailable',
      cause: { type: 'Error', message: 'WRONGPASS invalid username-password pair', code: 'WRONGPASS' },
    });
    expect(String(shown.stack)).toContain('Redis is unreachable');
    expect(JSON.stringify(shown)).not.toContain('s3cret-pass');
    expect(serializeError('plain text')).toBe('plain text');
  });
});
