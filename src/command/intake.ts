import type { Config } from '../config/schema.js';
import { classOf, type CommandRequest, type Verb } from './types.js';
import { parseCommand } from './parse.js';
import type { MembershipResolver } from '../policy/index.js';
import { authorizeCommand, resolveTarget } from './authorize.js';
import { ERROR_HANDLING, describeError, isChatOpsError, logFailure, unavailable } from '../errors/index.js';
import { errorMessage } from '../slack/errors.js';
import { enqueueCommand, requestIdFrom } from '../queue/commands.js';
import type { Services } from './services.js';
import { sealSecretArgs } from './secret-args.js';
import type { AuditOutcome } from '../audit/index.js';
import { approvalRuleFor } from '../approvals/policy.js';
import type { Logger } from '../log.js';
import { context, escapeMrkdwn, section, type SlackMessage } from '../slack/blocks.js';
import type { SlashCommandInput } from '../slack/slash-command.js';
import { isAllowedResponseUrl } from '../slack/respond.js';
import type { Click } from '../slack/actions.js';

export type { SlashCommandInput };

export interface IntakeDeps {
  config: Config;
  verbs: ReadonlyMap<string, Verb>;
  members: MembershipResolver;
  log: Logger;
  services: Services;
  /** The time parse, policy and enqueue may take together before the ack (default ACK_BUDGET_MS). */
  ackBudgetMs?: number;
}

/**
 * Slack shows "failed with the error operation_timeout" after 3 s without an ack, and the
 * person retypes a command that may well be queued. The ack waits for parse, policy
 * (membership lookups included) and enqueue only, together within this budget; the audit
 * record and anything else happen after it.
 */
export const ACK_BUDGET_MS = 2_200;

/** The promise, or `onLate()` thrown once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, onLate: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onLate()), Math.max(0, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export type IntakeOutcome = 'queued' | 'answered' | 'denied' | 'bad_input' | 'unavailable' | 'error';

export interface IntakeResult {
  verb: string;
  outcome: IntakeOutcome;
  /** What the ack carries back to Slack. */
  reply: SlackMessage & { response_type: 'ephemeral' | 'in_channel' };
}

export function toCommandRequest(input: SlashCommandInput, now = Date.now()): CommandRequest {
  return {
    // trigger_id is unique per invocation; a retried delivery carries the same one.
    requestId: requestIdFrom([input.team_id, input.channel_id, input.user_id, input.trigger_id ?? `${input.text}@${now}`]),
    text: input.text,
    userId: input.user_id,
    ...(input.user_name ? { userName: input.user_name } : {}),
    channelId: input.channel_id,
    ...(input.team_id ? { teamId: input.team_id } : {}),
    // Only Slack's own response_url is kept: a job never carries an address elsewhere.
    ...(input.response_url && isAllowedResponseUrl(input.response_url) ? { responseUrl: input.response_url } : {}),
    ...(input.thread_ts ? { threadTs: input.thread_ts } : {}),
    receivedAt: now,
  };
}

/** A button click as the slash command it stands for: `text` run as the clicker, in the click's channel (and `threadTs`, if given). */
export function clickAsCommand(click: Click, text: string, threadTs?: string): SlashCommandInput {
  return {
    command: '/k8s',
    text,
    user_id: click.userId,
    ...(click.userName ? { user_name: click.userName } : {}),
    channel_id: click.channelId,
    ...(click.teamId ? { team_id: click.teamId } : {}),
    ...(click.responseUrl ? { response_url: click.responseUrl } : {}),
    ...(click.triggerId ? { trigger_id: click.triggerId } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
  };
}

/** The request a button click makes, for authorizing it like a typed command. */
export function clickRequest(click: Click, text: string): CommandRequest {
  return toCommandRequest(clickAsCommand(click, text, click.threadTs));
}

/**
 * From slash command to the ack's content: parse, check policy, then either
 * answer at once (help, access) or enqueue for a worker. Never throws.
 */
export async function handleSlashCommand(deps: IntakeDeps, input: SlashCommandInput): Promise<IntakeResult> {
  const request = toCommandRequest(input);
  const deadline = performance.now() + (deps.ackBudgetMs ?? ACK_BUDGET_MS);
  const left = () => deadline - performance.now();
  let verbName = 'unknown';
  let target: { env?: string; app?: string } = {};
  // Until the command is parsed, only the verb is recorded: unvalidated text may hold anything.
  let shownText = `${input.text.trim().split(/\s+/, 1)[0]?.slice(0, 30) ?? ''} …`;
  const audit = (outcome: AuditOutcome, detail?: string, ref?: string) =>
    deps.services.audit.record({
      outcome,
      verb: verbName,
      command: shownText.slice(0, 200),
      userId: request.userId,
      channelId: request.channelId,
      ...target,
      ...(ref ? { ref } : {}),
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
    });
  try {
    const { verb, args, raw, dryRun } = parseCommand(input.text, deps.verbs);
    verbName = verb.verb;
    target = resolveTarget(deps.config, verb, args, request.channelId);
    // What is shown and recorded from here on (secret values masked); the job carries the real args.
    shownText = verb.displayText?.(args, deps.config) ?? input.text.trim();
    request.text = shownText;
    // Membership lookups ask Slack: bounded, so that a slow Slack costs an answer, not the ack.
    await within(authorizeCommand(deps, verb, args, target, request), left() - 300, () =>
      unavailable(
        'Slack did not answer in time about who may run this here (user group membership), so nothing was queued. Try again in a moment.',
      ),
    );
    if (verb.runsIn === 'app') {
      let reply: IntakeResult['reply'] = { response_type: 'ephemeral', text: 'done' };
      await verb.run({
        args,
        request,
        config: deps.config,
        verbs: deps.verbs,
        services: deps.services,
        log: deps.log,
        reply: async (m) => void (reply = { response_type: 'ephemeral', ...m }),
        replyInChannel: async (m) => void (reply = { response_type: 'in_channel', ...m }),
      });
      return { verb: verbName, outcome: 'answered', reply };
    }
    if (dryRun) {
      // A dry run is a read: no approval, no lock, not audited (it changes nothing, like status or describe).
      // Its secret values travel sealed like a real run's.
      const sealed = sealSecretArgs(verb, raw, deps.config, deps.services.signer, request.requestId);
      const jobId = await enqueueCommand(deps.services.queue, deps.services.signer, { verb: verb.verb, ...sealed, request, dryRun: true });
      const text = `:mag: Dry run of \`${escapeMrkdwn(verb.describe(args))}\`: the diff follows here; nothing is written.`;
      return {
        verb: verbName,
        outcome: 'queued',
        reply: { response_type: 'ephemeral', text, blocks: [section(text), context(`job \`${jobId}\``)] },
      };
    }
    // Invocations that change nothing (config get, a scale-to-0 that only asks to confirm) read like reads.
    const changes = classOf(verb, args, deps.config) !== 'read' && !(verb.runsIn === 'worker' && verb.changesNothing?.(args));
    // Secret values go sealed; Redis keeps them masked in clear.
    const split = sealSecretArgs(verb, raw, deps.config, deps.services.signer, request.requestId);
    const jobId = await enqueueCommand(
      deps.services.queue,
      deps.services.signer,
      { verb: verb.verb, ...split, request },
      Math.max(100, Math.min(2_000, left())),
    );
    // After the ack: the record never holds it up (AuditLog.record logs its own failures).
    if (changes) void audit('accepted', undefined, jobId);
    const what = verb.describe(args);
    const rule = approvalRuleFor(deps.config, verb, args, target.env);
    if (rule) {
      // The worker works out what will change and posts the request with Approve/Reject buttons.
      const text = `:lock: \`${what}\` needs approval in \`${target.env}\`: I'm posting the request in this channel; it runs once approved (${rule.minApprovals} approval${rule.minApprovals > 1 ? 's' : ''}${rule.allowSelfApproval ? '' : ', not yours'}).`;
      return {
        verb: verbName,
        outcome: 'queued',
        reply: { response_type: 'ephemeral', text, blocks: [section(text), context(`job \`${jobId}\``)] },
      };
    }
    const text = changes
      ? `:inbox_tray: Queued \`${what}\` — progress follows in a thread in this channel.`
      : `:hourglass_flowing_sand: ${what}…`;
    return {
      verb: verbName,
      outcome: 'queued',
      reply: { response_type: 'ephemeral', text, blocks: [section(text), context(`job \`${jobId}\``)] },
    };
  } catch (err) {
    const described = describeError(err, deps.log);
    const handling = ERROR_HANDLING[described.kind];
    logFailure(deps.log, err, described, 'command not run', { verb: verbName });
    // Recorded without holding up the answer; a bad-input message may quote what was typed, so it is not stored.
    if (handling.audit === 'denied') void audit('denied', isChatOpsError(err) ? err.userMessage : undefined);
    else if (handling.audit === 'rejected_input' && verbName !== 'unknown') void audit('rejected_input');
    return { verb: verbName, outcome: handling.outcome, reply: { response_type: 'ephemeral', ...errorMessage(described) } };
  }
}
