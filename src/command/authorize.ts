import type { Config } from '../config/schema.js';
import { strictestApproval } from '../approvals/policy.js';
import { denied, isChatOpsError } from '../errors/index.js';
import { checkPolicy, type MembershipResolver } from '../policy/index.js';
import type { CommandRequest, Verb, VerbTarget } from './types.js';

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
  verb: Verb,
  args: unknown,
  target: VerbTarget,
  request: Pick<CommandRequest, 'channelId' | 'userId'>,
): Promise<void> {
  verb.check?.(args, deps.config);
  const policy = (env: string | undefined) =>
    checkPolicy(
      deps.config,
      {
        channelId: request.channelId,
        userId: request.userId,
        verb: verb.verb,
        verbClass: verb.class,
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
