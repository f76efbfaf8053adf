import type { Config } from '../config/schema.js';
import { strictestApproval } from '../approvals/policy.js';
import { denied, isChatOpsError } from '../errors/index.js';
import { checkPolicy, type MembershipResolver } from '../policy/index.js';
import { badInput } from '../errors/index.js';
import { formatIssues } from '../config/load.js';
import type { CommandRequest, Verb, VerbClass, VerbScope, VerbTarget, WorkerVerb } from './types.js';

/**
 * What authorizing needs of a command: every verb is one; a button that is no
 * verb (an alert's Silence) is one too, with no verb name and the `action` a
 * refusal names.
 */
export interface Authorizable {
  /** The verb the channel's binding must allow; none: the binding to the environment alone. */
  verb?: string;
  class: VerbClass;
  /** What a refusal says may not be done when there is no verb ("silence its alerts"). */
  action?: string;
  check?(args: unknown, config: Config): void;
  scope?(args: unknown, config: Config, channelId: string): VerbScope;
}

/**
 * What a command touches, for policy, approval, the lock and the audit: the verb's
 * target, or for a verb with a scope (label: a node's whole cluster) the environment
 * of the scope whose approval rule is strictest (else its first).
 */
export function resolveTarget(config: Config, verb: Verb, args: unknown, channelId: string): VerbTarget {
  const target = verb.target(args);
  const scope = verb.scope?.(args, config, channelId);
  if (!scope || scope.envs.length === 0) return target;
  const env = strictestApproval(config, verb, args, scope.envs)?.env ?? scope.envs[0]!;
  return { ...target, env };
}

/**
 * Everything a command must pass before it runs, in the app before enqueue and
 * again in the worker: the verb's config checks, then the channel's policy —
 * for every environment of the verb's scope when it has one.
 */
export async function authorizeCommand(
  deps: { config: Config; verbs: ReadonlyMap<string, Verb>; members: MembershipResolver },
  verb: Authorizable,
  args: unknown,
  target: VerbTarget,
  request: CommandRequest,
): Promise<void> {
  verb.check?.(args, deps.config);
  const policy = (env: string | undefined) =>
    checkPolicy(
      deps.config,
      {
        channelId: request.channelId,
        userId: request.userId,
        ...(verb.verb !== undefined ? { verb: verb.verb } : {}),
        verbClass: verb.class,
        ...(verb.action ? { action: verb.action } : {}),
        ...(env ? { env } : {}),
        ...(target.app ? { app: target.app } : {}),
      },
      [...deps.verbs.keys()],
      deps.members,
    );
  const scope = verb.scope?.(args, deps.config, request.channelId);
  if (!scope) return policy(target.env);
  await policy(undefined);
  for (const env of scope.envs) {
    try {
      await policy(env);
    } catch (err) {
      throw isChatOpsError(err) && err.kind === 'denied' ? denied(`${scope.reason}. ${err.userMessage}`) : err;
    }
  }
}

/**
 * A command kept as its verb's name and its arguments before validation (a queued
 * job, an approval request): the verb, and the arguments validated again.
 */
export function parseStored(verbs: ReadonlyMap<string, Verb>, verbName: string, raw: unknown): { verb: WorkerVerb; args: unknown } {
  const verb = verbs.get(verbName);
  if (!verb || verb.runsIn !== 'worker') throw badInput(`Unknown command \`${verbName}\`.`);
  const parsed = verb.schema.safeParse(raw);
  if (!parsed.success) throw badInput(`Invalid arguments: ${formatIssues(parsed.error.issues).join('; ')}`);
  return { verb, args: parsed.data };
}
