import type { ChannelBinding, Config } from '../config/schema.js';
import { denied } from '../errors/index.js';
import { channelOf, hasOwnKey } from '../config/lookup.js';
import type { VerbClass } from '../command/request.js';

/** Verbs every channel may use: they only explain what the channel may do and touch nothing. */
export const ALWAYS_ALLOWED = new Set(['help', 'access']);

/** Answers "is this user one of these user IDs or in one of these user groups?" */
export interface MembershipResolver {
  isMember(userId: string, userOrGroupIds: readonly string[]): Promise<boolean>;
}

export interface PolicyRequest {
  channelId: string;
  userId: string;
  /** The verb the channel's binding must allow; none for an action on the channel's own messages (an alert's Silence). */
  verb?: string;
  verbClass: VerbClass;
  /** What a refusal says the user may not do when there is no verb ("silence its alerts"). */
  action?: string;
  env?: string;
  app?: string;
}

export function bindingFor(config: Config, channelId: string): ChannelBinding | undefined {
  return channelOf(config, channelId);
}

export function allowedEnvironments(config: Config, binding: ChannelBinding): string[] {
  return binding.environments.includes('*')
    ? Object.keys(config.environments)
    : binding.environments.filter((e) => hasOwnKey(config.environments, e));
}

/** The apps a binding may touch; undefined = every app ("*", the default). */
export function allowedApps(config: Config, binding: ChannelBinding): string[] | undefined {
  if (!binding.apps || binding.apps.includes('*')) return undefined;
  return binding.apps.filter((a) => Object.hasOwn(config.apps, a));
}

export function allowedVerbs(binding: ChannelBinding, allVerbs: readonly string[]): string[] {
  const allowed = binding.commands.includes('*') ? allVerbs : allVerbs.filter((v) => binding.commands.includes(v));
  return [...new Set([...allowed, ...ALWAYS_ALLOWED])].filter((v) => allVerbs.includes(v));
}

export function describeAllowance(config: Config, channelId: string, allVerbs: readonly string[]): string {
  const binding = bindingFor(config, channelId);
  if (!binding) {
    return "This channel is not bound to any environment, so k8s-chatops does nothing here. Ops can bind it under `channels` in the bot's config.";
  }
  const envs = allowedEnvironments(config, binding);
  const verbs = allowedVerbs(binding, allVerbs).filter((v) => !ALWAYS_ALLOWED.has(v));
  const who = binding.members
    ? ` Only ${binding.members.map((m) => (m.startsWith('S') ? `<!subteam^${m}>` : `<@${m}>`)).join(', ')} may use it.`
    : '';
  const apps = allowedApps(config, binding);
  const appsText = apps ? ` for the apps ${apps.map((a) => `\`${a}\``).join(', ') || '(none)'}` : '';
  return `This channel may run ${verbs.map((v) => `\`${v}\``).join(', ') || 'no commands'} on ${envs.map((e) => `\`${e}\``).join(', ') || 'no environments'}${appsText}.${who}`;
}

/**
 * Checked in the app before enqueue and again in the worker (the binding may
 * have changed, and a job or button payload is never trusted on its own).
 */
export async function checkPolicy(
  config: Config,
  request: PolicyRequest,
  allVerbs: readonly string[],
  members: MembershipResolver,
): Promise<void> {
  if (request.verb !== undefined && ALWAYS_ALLOWED.has(request.verb)) return;
  const binding = bindingFor(config, request.channelId);
  const allowance = () => describeAllowance(config, request.channelId, allVerbs);
  const mayNot = request.action ? `, so you may not ${request.action}` : '';
  if (!binding) throw denied(allowance());
  if (binding.members && !(await members.isMember(request.userId, binding.members))) {
    throw denied(`You are not one of the people allowed to use this channel's binding${mayNot}. ${allowance()}`);
  }
  if (request.verb !== undefined && !binding.commands.includes('*') && !binding.commands.includes(request.verb)) {
    throw denied(`This channel may not use \`${request.verb}\`. ${allowance()}`);
  }
  if (request.env !== undefined) {
    if (!hasOwnKey(config.environments, request.env)) {
      throw denied(`There is no environment \`${request.env}\`. ${allowance()}`);
    }
    if (!binding.environments.includes('*') && !binding.environments.includes(request.env)) {
      const ask = request.action ? `, so it may not ${request.action}; ask ops to bind it to \`${request.env}\`` : '';
      throw denied(`This channel may not touch \`${request.env}\`${ask}. ${allowance()}`);
    }
  }
  if (request.app !== undefined) {
    const apps = allowedApps(config, binding);
    if (apps && !apps.includes(request.app)) throw denied(`This channel may not touch the app \`${request.app}\`. ${allowance()}`);
  }
}
