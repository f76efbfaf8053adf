import type { Config } from '../config/schema.js';
import type { Verb } from '../command/types.js';
import { environmentOf } from '../config/lookup.js';

export type ApprovalRule = NonNullable<Config['environments'][string]['approval']>;

/**
 * The approval rule that applies to this command, if any: write verbs on an
 * environment with `approval`, limited to `approval.commands` when that is set.
 * Invocations that change nothing (e.g. `config get`) never need approval.
 */
export function approvalRuleFor(config: Config, verb: Verb, args: unknown, env: string | undefined): ApprovalRule | undefined {
  if (!env || verb.class === 'read') return undefined;
  if (verb.runsIn === 'worker' && verb.changesNothing?.(args)) return undefined;
  const rule = environmentOf(config, env)?.approval;
  if (!rule) return undefined;
  if (rule.commands && !rule.commands.includes(verb.verb)) return undefined;
  return rule;
}
