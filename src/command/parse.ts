import { badInput } from '../errors/index.js';
import { formatIssues } from '../config/load.js';
import { escapeMrkdwn, escapeTyped } from '../slack/blocks.js';
import { dryRunRefusal, type Verb } from './types.js';

/** Slack text longer than this is not a command anyone typed. */
export const MAX_COMMAND_LENGTH = 1_000;

export interface ParsedCommand {
  verb: Verb;
  /** The named arguments before validation: what is queued, so the worker validates them again itself. */
  raw: Record<string, unknown>;
  args: unknown;
  /** `--dry-run` was given (only ever for a verb that accepts it): compute the diff, write nothing. */
  dryRun: boolean;
}

/** The flag every write verb accepts; parsed here once, never by the verbs. */
export const DRY_RUN_FLAG = '--dry-run';

/** Splits on whitespace; quotes are not special (no user text reaches a shell, and names never contain spaces). */
export function tokenize(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

export function suggestVerb(word: string, verbs: readonly string[]): string | undefined {
  let best: { verb: string; distance: number } | undefined;
  for (const verb of verbs) {
    const distance = verb.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, verb);
    if (distance <= 2 && (!best || distance < best.distance)) best = { verb, distance };
  }
  return best?.verb;
}

function usageError(verb: Verb, problem: string): Error {
  // The problem may quote what was typed (`<!here>`, a user-group mention): shown, never pinging. Usage lines hold `<app>`, which Slack would read as a link.
  return badInput(`${escapeTyped(problem)}\nUsage: \`/k8s ${escapeMrkdwn(verb.usage)}\`\nExample: \`/k8s ${escapeMrkdwn(verb.example)}\``);
}

/** Maps tokens to the verb's named arguments, then validates them with its schema. */
export function parseArgs(verb: Verb, tokens: readonly string[]): { raw: Record<string, unknown>; args: unknown } {
  const raw: Record<string, unknown> = {};
  const positional: string[] = [];
  const flags = verb.flags ?? {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith('--')) {
      const [name, inline] = token.slice(2).split('=', 2) as [string, string | undefined];
      const kind = flags[name];
      if (!kind) throw usageError(verb, `Unknown option \`--${name.slice(0, 40)}\`.`);
      if (kind === 'boolean') {
        raw[name] = true;
      } else if (typeof kind === 'object') {
        // Bare (`true`) unless a value is inline or the next word is one of this flag's values.
        const next = tokens[i + 1];
        if (inline !== undefined) raw[name] = inline;
        else if (next !== undefined && kind.optionalValue.test(next)) raw[name] = tokens[++i];
        else raw[name] = true;
      } else {
        const value = inline ?? tokens[++i];
        if (value === undefined) throw usageError(verb, `Option \`--${name}\` needs a value.`);
        raw[name] = value;
      }
    } else {
      positional.push(token);
    }
  }
  const names = verb.positionals;
  let index = 0;
  for (const spec of names) {
    if (spec.endsWith('...')) {
      raw[spec.slice(0, -3)] = positional.slice(index);
      index = positional.length;
      break;
    }
    const name = spec.replace(/\?$/, '');
    const value = positional[index];
    if (value === undefined) {
      if (!spec.endsWith('?')) throw usageError(verb, `Missing \`<${name}>\`.`);
      continue;
    }
    raw[name] = value;
    index++;
  }
  if (index < positional.length) {
    throw usageError(verb, `Unexpected \`${positional.slice(index).join(' ').slice(0, 60)}\`.`);
  }
  const result = verb.schema.safeParse(raw);
  if (!result.success) throw usageError(verb, `${formatIssues(result.error.issues).join('; ')}.`);
  return { raw, args: result.data };
}

export function parseCommand(text: string, verbs: ReadonlyMap<string, Verb>): ParsedCommand {
  if (text.length > MAX_COMMAND_LENGTH) {
    throw badInput(`That command is ${text.length} characters long; commands are at most ${MAX_COMMAND_LENGTH}. Try \`/k8s help\`.`);
  }
  const tokens = tokenize(text);
  const word = tokens[0]?.toLowerCase();
  if (!word) return parseCommand('help', verbs);
  const verb = verbs.get(word);
  if (!verb) {
    const suggestion = suggestVerb(word, [...verbs.keys()]);
    const shown = word.replace(/[^\w-]/g, '').slice(0, 30) || '?';
    throw badInput(
      `Unknown command \`${shown}\`.${suggestion ? ` Did you mean \`${suggestion}\`?` : ''} Try \`/k8s help\` for the commands this channel may use.`,
    );
  }
  const rest = tokens.slice(1);
  const dryRun = rest.includes(DRY_RUN_FLAG);
  const refuse = (refusal: string | undefined) => {
    if (refusal) throw badInput(`${refusal}\nUsage: \`/k8s ${escapeMrkdwn(verb.usage)}\``);
  };
  if (dryRun) refuse(dryRunRefusal(verb));
  const parsed = parseArgs(
    verb,
    rest.filter((t) => t !== DRY_RUN_FLAG),
  );
  if (dryRun) refuse(dryRunRefusal(verb, parsed.args));
  return { verb, ...parsed, dryRun };
}
