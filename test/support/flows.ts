/** The set-ups e2e tests share: a deploy run to its end, a job's final message, a private answer, an approval click. */
import type { ResponseUrlPost, SlackCall, SlackEmulator } from './slack/index.js';

/** What the flows need of the harness (kept structural so harness.ts and this file do not import each other). */
export interface FlowHost {
  slack: SlackEmulator;
  command(text: string, opts?: { channel?: string; user?: string }): Promise<{ json: any; responseUrl: string }>;
  click(input: {
    user_id: string;
    channel_id: string;
    message_ts: string;
    action_id: string;
    value: string;
    response_url: string;
  }): Promise<{ status: number }>;
}

export interface FinalOptions {
  /** Only calls after this seq (`h.mark()`); default 0: earlier calls count too. */
  since?: number;
  /** Only the message with this ts (a job's top-level message). */
  ts?: string;
  timeoutMs?: number;
}

export interface ApprovalRequest {
  /** The chat.postMessage that asked for approval. */
  message: SlackCall;
  ts: string;
  channel: string;
  /** The approval's id: the value of its Approve and Reject buttons. */
  value: string;
}

export interface Flows {
  /** The seq of the last Slack call so far: pass it as `since` to wait only for what comes after. */
  mark(): number;
  /** A job's top-level message turning final (✅ or ❌): the chat.update whose text matches. */
  waitForFinal(match: RegExp, opts?: FinalOptions): Promise<SlackCall>;
  /**
   * Posts `deploy app env [version]` (as h.command, same defaults), fails unless it was queued, and waits for the job's ✅ final message
   * (its `args.ts` is the thread). Without a version, any version promoted to env counts.
   */
  deployAndWait(
    app: string,
    env: string,
    version?: string,
    opts?: { channel?: string; user?: string; timeoutMs?: number },
  ): Promise<SlackCall>;
  /** A thread's messages, each its text then its blocks as JSON, one after the other (for toMatch/toContain). */
  threadText(channel: string, ts: string): string;
  /** What the bot told the requester privately (the command's or click's response_url): the first post (whose text matches). */
  answer(responseUrl: string, match?: RegExp | ((text: string) => boolean), timeoutMs?: number): Promise<ResponseUrlPost>;
  /** The next "Approval needed" request posted after `since`. */
  waitForApproval(opts?: { since?: number; match?: (c: SlackCall) => boolean; timeoutMs?: number }): Promise<ApprovalRequest>;
  /** Clicks Approve (or Reject) on a request as `user`; returns the HTTP status and the private answer's text. */
  clickApproval(
    request: Pick<ApprovalRequest, 'ts' | 'value'> & { channel?: string },
    user: string,
    action?: 'chatops_approve' | 'chatops_reject',
  ): Promise<{ status: number; text: string }>;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function flows(h: FlowHost): Flows {
  const self: Flows = {
    mark: () => h.slack.calls.at(-1)?.seq ?? 0,
    waitForFinal(match, o = {}) {
      const since = o.since ?? 0;
      return h.slack.waitForCall(
        (c) => c.seq > since && c.method === 'chat.update' && (o.ts === undefined || c.args.ts === o.ts) && match.test(String(c.args.text)),
        o.timeoutMs ?? 15_000,
      );
    },
    async deployAndWait(app, env, version, o = {}) {
      const since = self.mark();
      const text = `deploy ${app} ${env}${version ? ` ${version}` : ''}`;
      const ack = await h.command(text, { ...(o.channel ? { channel: o.channel } : {}), ...(o.user ? { user: o.user } : {}) });
      if (!String(ack.json?.text).includes('Queued')) throw new Error(`\`${text}\` was not queued: ${JSON.stringify(ack.json)}`);
      const shown = version ? escapeRegExp(version) : '\\S+';
      const done = new RegExp(`:white_check_mark: deploy ${escapeRegExp(app)} ${shown} → ${escapeRegExp(env)} — done`);
      return self.waitForFinal(done, { since, timeoutMs: o.timeoutMs ?? 15_000 });
    },
    threadText: (channel, ts) =>
      h.slack
        .thread(channel, ts)
        .map((m) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`)
        .join('\n'),
    answer(responseUrl, match, timeoutMs = 15_000) {
      const id = responseUrl.split('/').pop();
      const matches = (text: string) => (match === undefined ? true : typeof match === 'function' ? match(text) : match.test(text));
      return h.slack.waitForResponse((r) => r.id === id && matches(String(r.body?.text)), timeoutMs);
    },
    async waitForApproval(o = {}) {
      const since = o.since ?? 0;
      const message = await h.slack.waitForCall(
        (c) => c.seq > since && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text) && (o.match?.(c) ?? true),
        o.timeoutMs ?? 15_000,
      );
      const actions = (message.args.blocks as any[]).find((b) => b.type === 'actions');
      const value = actions.elements.find((e: any) => e.action_id === 'chatops_approve').value as string;
      return { message, ts: message.response.ts as string, channel: message.args.channel as string, value };
    },
    async clickApproval(request, user, action = 'chatops_approve') {
      const responseUrl = h.slack.newResponseUrl();
      const res = await h.click({
        user_id: user,
        channel_id: request.channel ?? 'C0OPS',
        message_ts: request.ts,
        action_id: action,
        value: request.value,
        response_url: responseUrl,
      });
      return { status: res.status, text: String((await self.answer(responseUrl)).body.text) };
    },
  };
  return self;
}
