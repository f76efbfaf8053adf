import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Services } from '../command/services.js';
import type { Verb } from '../command/types.js';
import type { MembershipResolver } from '../policy/index.js';
import { authorizeCommand, parseStored, resolveTarget } from '../command/authorize.js';
import { enqueueCommand, jobIdFor } from '../queue/commands.js';
import { onButton, type Click } from '../slack/actions.js';
import { APPROVED } from '../slack/views/job-thread.js';
import { postToResponseUrl } from '../slack/respond.js';
import { approvalsTotal } from '../server/metrics.js';
import { describeError, logFailure } from '../errors/index.js';
import { storeUnreachable } from '../queue/redis.js';
import { errorMessage } from '../slack/errors.js';
import type { SlackMessage } from '../slack/blocks.js';
import { environmentOf } from '../config/lookup.js';
import { APPROVE_ACTION, REJECT_ACTION, approvalRequestMessage } from './messages.js';
import { announceDecision } from './gate.js';
import { ApprovalStore, type ApprovalRequest } from './store.js';
import { TamperedRecordError } from '../security/signing.js';
import { reportTampered } from '../security/tampered.js';

export interface ApprovalButtonDeps {
  config: Config;
  verbs: ReadonlyMap<string, Verb>;
  store: ApprovalStore;
  members: MembershipResolver;
  services: Services;
  slack: WebClient;
  log: Logger;
}

const STATE_WORDS: Record<ApprovalRequest['state'], string> = {
  pending: 'still pending',
  approved: 'already approved',
  rejected: 'already rejected',
  expired: 'expired',
  cancelled: 'cancelled',
  executed: 'already approved and run',
};

/**
 * Approve and Reject. The button carries only the request id; who may approve,
 * how many approvals, and what runs are all read from config and Redis.
 */
export function registerApprovalButtons(app: App, deps: ApprovalButtonDeps): void {
  const tell = async (click: Click, message: string | SlackMessage) => {
    if (!click.responseUrl) return;
    await postToResponseUrl(click.responseUrl, typeof message === 'string' ? { text: message } : message, 'ephemeral', deps.log).catch(
      (err: unknown) => deps.log.warn({ err, user: click.userId }, 'could not answer an approval button click'),
    );
  };
  /** What went wrong, with its code; a store that cannot be read is said so (try again), never taken for a missing request. */
  const fail = async (click: Click, err: unknown) => {
    const described = describeError(err, deps.log);
    logFailure(deps.log, err, described, 'approval button failed', { user: click.userId });
    await tell(click, errorMessage(described));
  };
  const audit = (request: ApprovalRequest, outcome: 'approved' | 'rejected' | 'cancelled' | 'denied', userId: string, detail?: string) =>
    deps.services.audit.record({
      outcome,
      verb: request.verb,
      command: request.request.text.slice(0, 200),
      userId,
      channelId: request.request.channelId,
      env: request.env,
      ...(request.app ? { app: request.app } : {}),
      ref: request.id,
      ...(detail ? { detail } : {}),
    });

  /** Loads the request and checks the click belongs to it; answers the user when not. */
  const load = async (click: Click): Promise<ApprovalRequest | undefined> => {
    let request: ApprovalRequest | undefined;
    try {
      request = ApprovalStore.isValidId(click.value) ? await deps.store.get(click.value) : undefined;
    } catch (err) {
      if (!(err instanceof TamperedRecordError)) throw storeUnreachable(err);
      await reportTampered({ audit: deps.services.audit, log: deps.log }, err, { userId: click.userId, channelId: click.channelId });
      await tell(
        click,
        ':no_entry: This approval request failed its integrity check (it was changed outside the bot), so it can no longer be approved and nothing will run. Ops can find it in the audit log; ask the requester to run the command again.',
      );
      return undefined;
    }
    if (!request) {
      await tell(click, ':grey_question: I have no record of this approval request (it may be older than a week).');
      return undefined;
    }
    if (request.request.channelId !== click.channelId) {
      await tell(click, ':no_entry: This approval belongs to another channel.');
      return undefined;
    }
    // Clicked before the poster stored the message's ts (a fast approver): the clicked message is the request's.
    // Without it the run would start a new thread and the decision would never replace the buttons.
    if (!request.messageTs && click.messageTs) {
      await deps.store.setMessageTs(request.id, click.messageTs);
      return { ...request, messageTs: click.messageTs };
    }
    return request;
  };

  // A request asked again (round 2, 3…) runs as its own job: the first round's job id is still taken.
  const approvedJobId = (request: ApprovalRequest) =>
    `${jobIdFor(request.request.requestId)}-approved${(request.round ?? 1) > 1 ? String(request.round) : ''}`;
  const enqueueApproved = (request: ApprovalRequest) =>
    enqueueCommand(
      deps.services.queue,
      deps.services.signer,
      {
        verb: request.verb,
        args: request.args,
        ...(request.sealedArgs ? { sealedArgs: request.sealedArgs } : {}),
        request: request.request,
        ...(request.messageTs ? { threadTs: request.messageTs } : {}),
        approvalId: request.id,
      },
      2_000,
      approvedJobId(request),
    );

  const isApprover = async (request: ApprovalRequest, userId: string) => {
    const rule = environmentOf(deps.config, request.env)?.approval;
    return rule ? { rule, ok: await deps.members.isMember(userId, rule.approvers) } : { rule: undefined, ok: false };
  };

  onButton(app, APPROVE_ACTION, async (click) => {
    try {
      const request = await load(click);
      if (!request) return;
      const { rule, ok } = await isApprover(request, click.userId);
      if (!rule)
        return await tell(click, `:warning: \`${request.env}\` no longer requires approval; ask the requester to run the command again.`);
      if (!ok) {
        await audit(request, 'denied', click.userId, 'approve clicked by a non-approver');
        return await tell(
          click,
          `:no_entry: You are not an approver for \`${request.env}\`. Approvers: ${rule.approvers.map((a) => (a.startsWith('S') ? `<!subteam^${a}>` : `<@${a}>`)).join(', ')}.`,
        );
      }
      // The channel's binding must still allow this command for the requester (it may have changed since),
      // checked by the same step as a typed command.
      const { verb, args } = parseStored(deps.verbs, request.verb, request.args);
      await authorizeCommand(deps, verb, args, resolveTarget(deps.config, verb, args, request.request.channelId), request.request);
      // The run must start within the approval timeout after the decisive click, or it is refused.
      const outcome = await deps.store.approve(request.id, click.userId, rule.allowSelfApproval, rule.timeout);
      const current = outcome.request ?? request;
      switch (outcome.result) {
        case 'approved': {
          approvalsTotal.inc({ outcome: 'approved' });
          await audit(current, 'approved', click.userId, `approved by ${current.approvals.join(', ')}`);
          // Queue first, then say it runs: if Redis fails here, a later click queues it (it was never marked queued).
          await enqueueApproved(current);
          await deps.store.markQueued(current.id);
          await announceDecision(deps.slack, current, deps.log);
          return await tell(click, `${APPROVED} Approved — ${current.description} is running; follow it in the thread.`);
        }
        case 'recorded': {
          if (current.messageTs) {
            const message = approvalRequestMessage(current, rule);
            await deps.slack.chat
              .update({
                channel: current.request.channelId,
                ts: current.messageTs,
                text: message.text,
                ...(message.blocks ? { blocks: message.blocks } : {}),
              })
              .catch((err: unknown) => deps.log.warn({ err, approval: current.id }, 'could not show the recorded approval on its message'));
            // Decided while this update was on its way: it may have put the buttons back over the decision.
            const now = await deps.store.get(current.id);
            if (now && now.state !== 'pending') await announceDecision(deps.slack, now, deps.log);
          }
          return await tell(
            click,
            `:ballot_box_with_check: Your approval is recorded; ${current.minApprovals - current.approvals.length} more needed.`,
          );
        }
        case 'self':
          return await tell(click, ':no_entry: You asked for this change, so you cannot approve it yourself; another approver must.');
        case 'already_approved_by_you':
          return await tell(click, ':ballot_box_with_check: You have already approved this request; it needs another approver.');
        case 'expired':
          await announceDecision(deps.slack, current, deps.log);
          return await tell(click, ':hourglass: This request has expired; nothing was run. Ask the requester to run the command again.');
        default:
          // Approved earlier but its run never got queued (Redis failed at that moment): queue it now.
          // Never once it was queued — a run gone after retention or a cancel is not brought back.
          if (
            current.state === 'approved' &&
            current.queuedAt === undefined &&
            (current.runBy ?? 0) > Date.now() &&
            !(await deps.services.queue.getJob(approvedJobId(current)))
          ) {
            await enqueueApproved(current);
            await deps.store.markQueued(current.id);
            await announceDecision(deps.slack, current, deps.log);
          }
          return await tell(
            click,
            `:information_source: This request is ${STATE_WORDS[current.state]}${current.decidedBy && current.decidedBy !== 'system' ? ` by <@${current.decidedBy}>` : ''}; nothing more happens.`,
          );
      }
    } catch (err) {
      await fail(click, err);
    }
  });

  onButton(app, REJECT_ACTION, async (click) => {
    try {
      const request = await load(click);
      if (!request) return;
      const byRequester = click.userId === request.request.userId;
      const { ok } = await isApprover(request, click.userId);
      if (!ok && !byRequester)
        return await tell(
          click,
          `:no_entry: Only an approver for \`${request.env}\` (or the requester, to withdraw it) may reject this request.`,
        );
      const to = byRequester && !ok ? 'cancelled' : 'rejected';
      const outcome = await deps.store.close(request.id, to, click.userId);
      const current = outcome.request ?? request;
      if (outcome.result === 'closed') {
        approvalsTotal.inc({ outcome: to });
        await audit(current, to, click.userId);
        await announceDecision(deps.slack, current, deps.log);
        return await tell(
          click,
          to === 'cancelled' ? ':heavy_multiplication_x: Request withdrawn.' : ':no_entry_sign: Rejected; nothing will run.',
        );
      }
      if (outcome.result === 'expired') await announceDecision(deps.slack, current, deps.log);
      return await tell(click, `:information_source: This request is ${STATE_WORDS[current.state]}; nothing changes.`);
    } catch (err) {
      await fail(click, err);
    }
  });
}
