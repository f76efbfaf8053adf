/** chat.* and conversations.* methods. */
import { refuseMessage } from './block-kit-rules.js';
import { fail, ok, str, type Answer, type Handler } from './http.js';
import type { Limits } from './limits.js';
import { hasContent, type Workspace } from './state.js';
import type { EphemeralMessage } from './types.js';

/** Slack's refusal of a message body: `msg_too_long`, or `invalid_blocks` with one entry per violation. */
export function refusal(args: Record<string, any>): Answer | undefined {
  const r = refuseMessage({ text: args['text'], blocks: args['blocks'] });
  if (!r) return undefined;
  if (!r.errors) return fail(r.error);
  return fail(r.error, { errors: r.errors, response_metadata: { messages: r.errors.map((e) => `[ERROR] ${e}`) } });
}

export function chatHandlers(ws: Workspace, limits: Limits): Record<string, Handler> {
  return {
    'chat.postMessage': (args) => {
      const raw = str(args['channel']);
      if (!raw) return fail('channel_not_found');
      const channel = ws.resolveChannel(raw);
      const err = ws.channelError(channel);
      if (err) return err;
      if (!hasContent(args)) return fail('no_text');
      const refused = refusal(args);
      if (refused) return refused;
      const limited = limits.takeChannelToken(channel);
      if (limited) return limited;
      const threadTs = str(args['thread_ts']);
      const m = ws.storeMessage(channel, {
        text: str(args['text']) ?? '',
        blocks: args['blocks'],
        attachments: args['attachments'],
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return ok({ channel, ts: m.ts, message: ws.messageJson(m) });
    },
    'chat.update': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      if (!channel) return fail('channel_not_found');
      const err = ws.channelError(channel);
      if (err) return err;
      const m = ts ? ws.message(channel, ts) : undefined;
      if (!m || m.deleted) return fail('message_not_found');
      // Slack edits only what the app itself posted.
      if (m.user !== ws.id.botUserId) return fail('cant_update_message');
      if (!hasContent(args) && args['text'] === undefined) return fail('no_text');
      const refused = refusal(args);
      if (refused) return refused;
      if (args['text'] !== undefined) m.text = str(args['text']) ?? '';
      if (args['blocks'] !== undefined) m.blocks = Array.isArray(args['blocks']) ? args['blocks'] : undefined;
      if (args['attachments'] !== undefined) m.attachments = Array.isArray(args['attachments']) ? args['attachments'] : undefined;
      m.versions.push({ at: ws.now(), text: m.text, blocks: m.blocks, attachments: m.attachments });
      return ok({ channel, ts: m.ts, text: m.text, message: ws.messageJson(m) });
    },
    'chat.delete': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      const m = channel && ts ? ws.message(channel, ts) : undefined;
      if (!m || m.deleted) return fail('message_not_found');
      m.deleted = true;
      return ok({ channel, ts });
    },
    'chat.postEphemeral': (args) => {
      const raw = str(args['channel']);
      if (!raw) return fail('channel_not_found');
      const channel = ws.resolveChannel(raw);
      const err = ws.channelError(channel);
      if (err) return err;
      const user = str(args['user']);
      if (!user) return fail('user_not_found');
      // An ephemeral goes only to a member of the channel (a non-member can still click a button in a public one).
      if (ws.userNotInChannel(channel, user)) return fail('user_not_in_channel');
      if (!hasContent(args)) return fail('no_text');
      const refused = refusal(args);
      if (refused) return refused;
      const message_ts = ws.nextTs();
      const e: EphemeralMessage = { channel, user, message_ts, text: str(args['text']) ?? '', at: ws.now() };
      const threadTs = str(args['thread_ts']);
      if (threadTs) e.thread_ts = threadTs;
      if (Array.isArray(args['blocks'])) e.blocks = args['blocks'];
      ws.ephemerals.push(e);
      return ok({ message_ts });
    },
    'conversations.info': (args) => {
      const channel = str(args['channel']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      const info = ws.channels.get(channel);
      const isIm = channel.startsWith('D');
      return ok({
        channel: {
          id: channel,
          name: info?.name ?? channel.toLowerCase(),
          is_channel: !isIm && !info?.is_private,
          is_group: false,
          is_im: isIm,
          is_private: info?.is_private ?? isIm,
          is_archived: false,
          is_general: false,
          is_member: !ws.notInChannel.has(channel),
          created: 1700000000,
          context_team_id: ws.id.teamId,
        },
      });
    },
    'conversations.replies': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      if (ws.notInChannel.has(channel)) return fail('not_in_channel');
      const parent = ts ? ws.message(channel, ts) : undefined;
      if (!parent || parent.deleted) return fail('thread_not_found');
      const root = parent.thread_ts ?? parent.ts;
      const rootMsg = ws.message(channel, root);
      const list = [...(rootMsg && !rootMsg.deleted ? [rootMsg] : []), ...ws.thread(channel, root)];
      return ok({ messages: list.map((m) => ws.messageJson(m)), has_more: false });
    },
    'conversations.history': (args) => {
      const channel = str(args['channel']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      if (ws.notInChannel.has(channel)) return fail('not_in_channel');
      const list = ws.topLevel(channel).reverse();
      const limit = Number(args['limit'] ?? 100);
      return ok({ messages: list.slice(0, limit).map((m) => ws.messageJson(m)), has_more: list.length > limit });
    },
  };
}
