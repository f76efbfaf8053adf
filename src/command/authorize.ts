import type { Config } from '../config/schema.js';
import { checkPolicy, type MembershipResolver } from '../policy/index.js';
import type { CommandRequest, Verb, VerbTarget } from './types.js';

/**
 * Everything a command must pass before it runs, in the app before enqueue and
 * again in the worker: the verb's config checks, then the channel's policy.
 */
export async function authorizeCommand(
  deps: { config: Config; verbs: ReadonlyMap<string, Verb>; members: MembershipResolver },
  verb: Verb,
  args: unknown,
  target: VerbTarget,
  request: Pick<CommandRequest, 'channelId' | 'userId'>,
): Promise<void> {
  verb.check?.(args, deps.config);
  await checkPolicy(
    deps.config,
    { channelId: request.channelId, userId: request.userId, verb: verb.verb, verbClass: verb.class, ...(target.env ? { env: target.env } : {}) },
    [...deps.verbs.keys()],
    deps.members,
  );
}
