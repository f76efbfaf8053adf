import type { Config } from '../config/schema.js';
import { classOf, type Verb } from '../command/types.js';
import { environmentOf } from '../config/lookup.js';

export type ApprovalRule = NonNullable<Config['environments'][string]['approval']>;

/**
 * The approval rule that applies to this command, if any: write verbs on an
 * environment with `approval`, limited to `approval.commands` when that is set.
 * Invocations that change nothing (e.g. `config get`) never need approval.
 */
export function approvalRuleFor(config: Config, verb: Verb, args: unknown, env: string | undefined): ApprovalRule | undefined {
  if (!env || classOf(verb, args, config) === 'read') return undefined;
  if (verb.runsIn === 'worker' && (verb.changesNothing?.(args) || verb.onlyCleansUp?.(args))) return undefined;
  const rule = environmentOf(config, env)?.approval;
  if (!rule) return undefined;
  if (rule.commands && !rule.commands.includes(verb.verb)) return undefined;
  return rule;
}

/**
 * The strictest rule among several environments (a node shared by all of them):
 * most approvals, then no self-approval, then the shortest timeout. Its environment
 * is the one the request is filed under, so its approvers decide.
 */
export function strictestApproval(
  config: Config,
  verb: Verb,
  args: unknown,
  envs: readonly string[],
): { env: string; rule: ApprovalRule } | undefined {
  let best: { env: string; rule: ApprovalRule } | undefined;
  for (const env of envs) {
    const rule = approvalRuleFor(config, verb, args, env);
    if (!rule) continue;
    const stricter =
      !best ||
      rule.minApprovals > best.rule.minApprovals ||
      (rule.minApprovals === best.rule.minApprovals && !rule.allowSelfApproval && best.rule.allowSelfApproval) ||
      (rule.minApprovals === best.rule.minApprovals &&
        rule.allowSelfApproval === best.rule.allowSelfApproval &&
        rule.timeout < best.rule.timeout);
    if (stricter) best = { env, rule };
  }
  return best;
}
