/**
 * `logs --grep`: a pattern typed in chat runs against cluster text, so it must
 * not be able to hang a worker. Patterns are short; the shapes that backtrack
 * catastrophically (a quantified group that itself repeats, e.g. `(a+)+`;
 * backreferences; lookarounds) are refused with a reason; and the matching
 * itself runs under a time budget in a V8 context that is interrupted when it
 * overruns, so a pattern that slips through still cannot hold the worker.
 * Without any regex metacharacter the pattern is a plain substring.
 */
import vm from 'node:vm';
import { badInput } from '../errors/index.js';

export const MAX_GREP_PATTERN = 200;
/** Matching every line read for one command may take this long at most. */
export const GREP_BUDGET_MS = 500;

export interface LogGrep {
  /** How the pattern is applied, for the answer's header. */
  mode: 'substring' | 'regex';
  /** The matching lines, in order. Throws a bad-input error when the pattern overruns its time budget. */
  filter(lines: readonly string[]): string[];
}

const META = /[\\^$.|?*+()[\]{}]/;

/** Refuses patterns whose matching time can grow exponentially with the line's length. */
function checkBacktracking(pattern: string): void {
  // Per open group: did it hold a quantifier or an alternation?
  const groups: Array<{ risky: boolean }> = [];
  let lastGroupRisky = false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') throw badInput('`--grep` does not take backreferences; use a plain pattern.');
      i++;
      lastGroupRisky = false;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      lastGroupRisky = false;
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        throw badInput('`--grep` does not take lookarounds; use a plain pattern.');
      }
      groups.push({ risky: false });
      continue;
    }
    if (ch === ')') {
      const closed = groups.pop();
      if (!closed) throw badInput('`--grep` pattern has an unmatched `)`.');
      lastGroupRisky = closed.risky;
      // A quantifier inside makes the enclosing group risky too.
      if (closed.risky && groups.length) groups[groups.length - 1]!.risky = true;
      continue;
    }
    const quantifier = ch === '*' || ch === '+' || ch === '?' || ch === '{';
    if (quantifier) {
      if (lastGroupRisky && ch !== '?') {
        throw badInput('`--grep` refuses nested repetition such as `(a+)+`: it can take forever on one line. Simplify the pattern.');
      }
      if (groups.length && ch !== '?') groups[groups.length - 1]!.risky = true;
      if (ch === '{') {
        const close = pattern.indexOf('}', i);
        if (close > 0) i = close;
      }
    }
    lastGroupRisky = false;
  }
}

export function compileLogGrep(pattern: string): LogGrep {
  if (pattern.length === 0) throw badInput('`--grep` needs a pattern, e.g. `--grep ERROR`.');
  if (pattern.length > MAX_GREP_PATTERN) throw badInput(`\`--grep\` pattern is at most ${MAX_GREP_PATTERN} characters.`);
  if (!META.test(pattern)) return { mode: 'substring', filter: (lines) => lines.filter((line) => line.includes(pattern)) };
  checkBacktracking(pattern);
  try {
    new RegExp(pattern);
  } catch (err) {
    throw badInput(
      `\`--grep\` pattern is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
  }
  return { mode: 'regex', filter: (lines) => filterWithBudget(pattern, lines) };
}

function filterWithBudget(pattern: string, lines: readonly string[]): string[] {
  const sandbox = vm.createContext({ pattern, lines: [...lines], out: [] as number[] });
  try {
    vm.runInContext('const re = new RegExp(pattern); for (let i = 0; i < lines.length; i++) if (re.test(lines[i])) out.push(i);', sandbox, {
      timeout: GREP_BUDGET_MS,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw badInput(
        `\`--grep\` pattern took more than ${GREP_BUDGET_MS} ms on these logs and was stopped; use a simpler pattern or a plain word.`,
      );
    }
    throw err;
  }
  return (sandbox.out as number[]).map((i) => lines[i]!);
}
