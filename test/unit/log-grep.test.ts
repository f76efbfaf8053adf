import { describe, expect, it } from 'vitest';
import { GREP_BUDGET_MS, compileLogGrep } from '../../src/kube/log-grep.js';
import { isChatOpsError } from '../../src/errors/index.js';

const refused = (pattern: string): string => {
  try {
    compileLogGrep(pattern);
  } catch (err) {
    expect(isChatOpsError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`accepted ${pattern}`);
};

describe('logs --grep', () => {
  it('takes a word as a plain substring, metacharacters as a regular expression', () => {
    const word = compileLogGrep('ERROR');
    expect(word.mode).toBe('substring');
    expect(word.filter(['ok', 'an ERROR here', 'error'])).toEqual(['an ERROR here']);
    const re = compileLogGrep('status=(4|5)\\d\\d');
    expect(re.mode).toBe('regex');
    expect(re.filter(['status=200', 'status=404', 'status=503'])).toEqual(['status=404', 'status=503']);
  });

  it('refuses nested repetition, backreferences, lookarounds, invalid and overlong patterns with a reason', () => {
    expect(refused('(a+)+$')).toContain('nested repetition');
    expect(refused('(x*y*)*')).toContain('nested repetition');
    expect(refused('((ab)+c)+')).toContain('nested repetition');
    expect(refused('(a)\\1')).toContain('backreferences');
    expect(refused('(?=a)b')).toContain('lookarounds');
    expect(refused('([a-')).toContain('not a valid regular expression');
    expect(refused('x'.repeat(201))).toContain('at most 200');
  });

  it('accepts ordinary patterns people type', () => {
    for (const p of ['timeout.*db', '^WARN', '\\d+ms', '(GET|POST) /api', 'user=[a-z]+', 'a{2,3}'])
      expect(() => compileLogGrep(p)).not.toThrow();
  });

  it('stops a pattern that slips through the checks once it overruns its time budget', () => {
    // Polynomial backtracking: no nested group, but ~n^4 steps on a long line without a match.
    const slow = compileLogGrep('a*a*a*a*a*b');
    const started = Date.now();
    expect(() => slow.filter(['a'.repeat(2_000)])).toThrow(/took more than/);
    // The budget holds (with slack for a loaded machine): the worker is not held for long.
    expect(Date.now() - started).toBeLessThan(GREP_BUDGET_MS * 10);
  });
});
