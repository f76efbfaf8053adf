import { formatDuration } from '../config/duration.js';
import { actions, codeBlock, context, escapeMrkdwn, mention, section, truncate, type SlackMessage } from '../slack/blocks.js';
import { APPROVED } from '../slack/views/job-thread.js';
import type { ApprovalRequest } from './store.js';
import type { ApprovalRule } from './policy.js';

export const APPROVE_ACTION = 'chatops_approve';
export const REJECT_ACTION = 'chatops_reject';

const who = (ids: readonly string[]) => ids.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : mention(id))).join(', ');
const time = (ms: number) => `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;

function body(request: ApprovalRequest): string[] {
  const lines = [`*Command:* \`/k8s ${escapeMrkdwn(request.request.text.trim())}\``];
  if (request.changes.length) lines.push(`*What changes:*\n${request.changes.map((c) => `• ${escapeMrkdwn(c)}`).join('\n')}`);
  if (request.diff?.length)
    lines.push(`*Diff* (server-side dry run, computed when this was posted):\n${codeBlock(request.diff.join('\n'), 2_000)}`);
  return lines;
}

/** The request as approvers see it: who asked, the exact command, what changes, and the buttons. */
export function approvalRequestMessage(request: ApprovalRequest, rule: ApprovalRule): SlackMessage {
  const text = `:lock: Approval needed: ${escapeMrkdwn(truncate(request.description, 1_000))}, requested by ${mention(request.request.userId)}`;
  const needs = `Needs ${rule.minApprovals} approval${rule.minApprovals > 1 ? 's' : ''} from ${who(rule.approvers)}${rule.allowSelfApproval ? '' : ' (not the requester)'} · expires in ${formatDuration(request.expiresAt - request.createdAt)}`;
  const progress = request.approvals.length ? ` · approved so far by ${who(request.approvals)}` : '';
  return {
    text,
    blocks: [
      section(text),
      section(body(request).join('\n')),
      context(needs + progress),
      actions(`approval:${request.id}`, [
        { text: 'Approve', actionId: APPROVE_ACTION, value: request.id, style: 'primary' },
        { text: 'Reject', actionId: REJECT_ACTION, value: request.id, style: 'danger' },
      ]),
    ],
  };
}

/** The same message once decided: no buttons, who decided and when. */
export function approvalDecidedMessage(request: ApprovalRequest): SlackMessage {
  const by = request.decidedBy ? mention(request.decidedBy) : '';
  const when = request.decidedAt ? time(request.decidedAt) : '';
  const approved = `${APPROVED} Approved by ${who(request.approvals)} ${when} — running ${escapeMrkdwn(request.description)}; progress follows in this thread`;
  const head: Record<Exclude<ApprovalRequest['state'], 'pending'>, string> = {
    approved,
    // Approved and its one run has started: the message reads the same.
    executed: approved,
    rejected: `:no_entry_sign: Rejected by ${by} ${when} — ${escapeMrkdwn(request.description)} will not run`,
    expired: `:hourglass: Expired ${when} without enough approvals — ${escapeMrkdwn(request.description)} did not run; ask again if still needed`,
    cancelled: `:heavy_multiplication_x: Cancelled by ${by} ${when} — ${escapeMrkdwn(request.description)} will not run`,
  };
  const text = request.state === 'pending' ? `:lock: ${escapeMrkdwn(request.description)}` : head[request.state];
  return {
    text,
    blocks: [
      section(text),
      section(body(request).join('\n')),
      context(`requested by ${mention(request.request.userId)} · ${time(request.createdAt)}`),
    ],
  };
}
