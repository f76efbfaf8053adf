/**
 * The workspace the emulator holds: messages, ephemerals, uploads, the user
 * directory and channel membership, plus the rules every write shares
 * (channel resolution, not_in_channel, message JSON as Slack returns it).
 */
import { fail, type Answer } from './http.js';
import type { EmulatedUser, EphemeralMessage, StoredMessage, Upload } from './types.js';

export interface Identity {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
}

export class Workspace {
  readonly messages = new Map<string, StoredMessage>();
  readonly ephemerals: EphemeralMessage[] = [];
  readonly uploads: Upload[] = [];
  readonly users = new Map<string, EmulatedUser>();
  readonly userGroups = new Map<string, string[]>();
  readonly channels = new Map<string, { name: string; is_private?: boolean }>();
  readonly notInChannel = new Set<string>();
  /** `${channel}:${user}` for users who are not members of the channel (everyone else is). */
  readonly usersNotInChannel = new Set<string>();
  /** Added to the real clock by advanceClock(): expiry tests without sleeping. */
  clockOffsetMs = 0;
  /** http://127.0.0.1:PORT, set once the server listens. */
  origin = '';
  private lastMicros = 0;

  constructor(
    readonly id: Identity,
    private readonly baseClock: () => number = Date.now,
  ) {}

  /** The emulator's clock (ms since epoch). */
  readonly now = (): number => this.baseClock() + this.clockOffsetMs;

  userNotInChannel(channel: string, user: string): boolean {
    return this.usersNotInChannel.has(`${channel}:${user}`);
  }

  nextTs(): string {
    this.lastMicros = Math.max(this.now() * 1000, this.lastMicros + 1);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }

  static key(channel: string, ts: string): string {
    return `${channel}:${ts}`;
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.get(Workspace.key(channel, ts));
  }

  /** Resolve a channel argument like Slack: a user id posts to that user's DM. */
  resolveChannel(ch: string): string {
    return /^[UW][A-Z0-9]+$/.test(ch) ? `D${ch.slice(1)}` : ch;
  }

  /** channel_not_found / not_in_channel check for a write to `channel`. */
  channelError(channel: string | undefined): Answer | undefined {
    if (!channel) return fail('channel_not_found');
    if (channel.startsWith('C404')) return fail('channel_not_found');
    if (this.notInChannel.has(channel)) return fail('not_in_channel');
    return undefined;
  }

  messageJson(m: StoredMessage): Record<string, unknown> {
    const { botId, appId, teamId, botUserId } = this.id;
    const out: Record<string, unknown> = { type: 'message', user: m.user, text: m.text, ts: m.ts, team: teamId };
    if (m.bot_id) {
      out['bot_id'] = m.bot_id;
      out['app_id'] = appId;
      out['bot_profile'] = { id: botId, app_id: appId, name: 'k8s-chatops', deleted: false, team_id: teamId };
    }
    if (m.subtype) out['subtype'] = m.subtype;
    if (m.blocks) out['blocks'] = m.blocks;
    if (m.attachments) out['attachments'] = m.attachments;
    if (m.thread_ts) {
      out['thread_ts'] = m.thread_ts;
      if (m.thread_ts !== m.ts) out['parent_user_id'] = this.message(m.channel, m.thread_ts)?.user ?? botUserId;
    }
    if (m.files) out['files'] = m.files;
    if (m.versions.length > 1) out['edited'] = { user: m.user, ts: m.versions[m.versions.length - 1]!.at / 1000 };
    return out;
  }

  storeMessage(
    channel: string,
    fields: {
      text: string;
      blocks?: any[];
      attachments?: any[];
      thread_ts?: string;
      subtype?: string;
      files?: StoredMessage['files'];
      /** Posted by this user rather than the bot. */
      user?: string;
    },
  ): StoredMessage {
    const ts = this.nextTs();
    const m: StoredMessage = {
      channel,
      ts,
      text: fields.text,
      user: fields.user ?? this.id.botUserId,
      bot_id: fields.user ? '' : this.id.botId,
      versions: [{ at: this.now(), text: fields.text, blocks: fields.blocks, attachments: fields.attachments }],
    };
    if (fields.thread_ts) m.thread_ts = fields.thread_ts;
    if (fields.blocks) m.blocks = fields.blocks;
    if (fields.attachments) m.attachments = fields.attachments;
    if (fields.subtype) m.subtype = fields.subtype;
    if (fields.files) m.files = fields.files;
    this.messages.set(Workspace.key(channel, ts), m);
    // A reply makes the parent a thread root (Slack sets thread_ts on the parent too).
    if (fields.thread_ts) {
      const parent = this.message(channel, fields.thread_ts);
      if (parent && !parent.thread_ts) parent.thread_ts = parent.ts;
    }
    return m;
  }

  /** Replies to the thread rooted at `ts`, oldest first (the parent excluded). */
  thread(channel: string, ts: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.thread_ts === ts && m.ts !== ts && !m.deleted);
  }

  /** Top-level messages in the channel (not thread replies), oldest first. */
  topLevel(channel: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts) && !m.deleted);
  }

  /** Clear traffic-derived state; the directory (users, groups, channels) stays. */
  reset(): void {
    this.messages.clear();
    this.ephemerals.length = 0;
    this.uploads.length = 0;
    this.notInChannel.clear();
    this.usersNotInChannel.clear();
    this.clockOffsetMs = 0;
  }
}

export function hasContent(args: Record<string, any>): boolean {
  return (
    (typeof args['text'] === 'string' && args['text'].length > 0) ||
    (Array.isArray(args['blocks']) && args['blocks'].length > 0) ||
    (Array.isArray(args['attachments']) && args['attachments'].length > 0)
  );
}
