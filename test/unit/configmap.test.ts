import { describe, expect, it } from 'vitest';
import { configLines, configPatch, diffConfig, displayValue, parseConfigChange, type ConfigChange } from '../../src/kube/configmap.js';

const change = (action: 'set' | 'unset', words: string[]): ConfigChange => {
  const parsed = parseConfigChange(action, words);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.change;
};
const problem = (action: 'set' | 'unset', words: string[]): string => {
  const parsed = parseConfigChange(action, words);
  if (!('problem' in parsed)) throw new Error(`accepted ${words.join(' ')}`);
  return parsed.problem;
};

describe('config set/unset arguments', () => {
  it('reads KEY=VALUE pairs; a value may hold "=" and Slack\'s escaped &, <, >', () => {
    expect(change('set', ['LOG_LEVEL=debug', 'URL=https://x/?a=1&amp;b=&lt;2&gt;', 'EMPTY='])).toEqual({
      action: 'set',
      values: { LOG_LEVEL: 'debug', URL: 'https://x/?a=1&b=<2>', EMPTY: '' },
    });
    expect(change('unset', ['A', 'B_2'])).toEqual({ action: 'unset', keys: ['A', 'B_2'] });
  });

  it.each([
    ['set', [], /at least one KEY=VALUE/],
    ['unset', [], /at least one KEY/],
    ['set', ['1BAD=x'], /`1BAD` is not a valid key/],
    ['set', ['my-key=x'], /`my-key` is not a valid key/],
    ['set', ['=x'], /`` is not a valid key/],
    ['set', ['NOVALUE'], /`NOVALUE` is not KEY=VALUE/],
    ['set', ['A=1', 'A=2'], /`A` is given twice/],
    ['unset', ['A=1'], /takes keys only/],
    ['set', [`BIG=${'x'.repeat(4_097)}`], /longer than 4096 bytes/],
    ['set', Array.from({ length: 21 }, (_, i) => `K${i}=v`), /at most 20 keys/],
    ['set', [`${'K'.repeat(254)}=v`], /at most 253 characters/],
    ['set', ['__proto__=x'], /reserved/],
  ] as const)('refuses %s %j', (action, words, expected) => {
    expect(problem(action, [...words])).toMatch(expected);
  });
});

describe('config changes', () => {
  const current = { LOG_LEVEL: 'info', DB_PASSWORD: 's3cret', OLD: 'x' };

  it('keeps only the keys whose value changes', () => {
    expect(diffConfig(current, change('set', ['LOG_LEVEL=debug', 'DB_PASSWORD=s3cret', 'NEW=1']))).toEqual([
      { key: 'LOG_LEVEL', before: 'info', after: 'debug' },
      { key: 'NEW', after: '1' },
    ]);
    expect(diffConfig(current, change('unset', ['OLD', 'MISSING']))).toEqual([{ key: 'OLD', before: 'x' }]);
  });

  it('builds the merge patch: null removes a key', () => {
    const changes = diffConfig(current, change('set', ['NEW=1']));
    const removal = diffConfig(current, change('unset', ['OLD']));
    expect(configPatch([...changes, ...removal])).toEqual({ data: { NEW: '1', OLD: null } });
  });

  it('shows values sorted, secrets masked, control characters visible and long values cut', () => {
    expect(configLines({ B: 'two\nlines', A: 'one', DB_PASSWORD: 's3cret' }, ['DB_PASSWORD'])).toEqual([
      'A=one',
      'B=two\\nlines',
      'DB_PASSWORD=••••••',
    ]);
    expect(displayValue('K', 'x'.repeat(300), [], 20)).toBe(`${'x'.repeat(19)}…`);
  });
});
