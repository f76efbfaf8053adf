/**
 * What the page shows, read from the Slack emulator: the bot's messages (as
 * updated), thread replies, files, chat.postEphemeral answers and response_url
 * posts (ephemeral to whoever ran the command or clicked, or in_channel).
 */
import type { SlackEmulator, StoredMessage } from '../../test/support/slack/index.js';

/** Where a response_url was handed out: who asked, in which channel and thread. */
export interface Origin {
  channel: string;
  user: string;
  threadTs?: string;
}

export interface ViewMessage {
  key: string;
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  files?: { id: string; name: string; title: string }[];
  edited: boolean;
  /** Only visible to this user (an ephemeral answer or the user's own command). */
  onlyFor?: string;
  /** The user's own slash command, echoed to them as Slack's composer would keep it. */
  command?: boolean;
  at: number;
}

export interface FeedSnapshot {
  messages: ViewMessage[];
}

const tsMs = (ts: string) => Math.round(Number(ts) * 1000);

export class Feed {
  private readonly origins = new Map<string, Origin>();
  private readonly echoes: ViewMessage[] = [];
  private echoSeq = 0;

  constructor(private readonly slack: SlackEmulator) {}

  /** A response_url for a command or click, remembered so its posts land before the right person. */
  responseUrl(origin: Origin): string {
    const url = this.slack.newResponseUrl();
    this.origins.set(url.slice(url.lastIndexOf('/') + 1), origin);
    return url;
  }

  /** The user's own `/k8s …`, shown to them only (Slack does not show others an ephemeral command). */
  echo(origin: Origin, text: string): void {
    this.add(origin, { user: origin.user, text, onlyFor: origin.user, command: true });
  }

  /** The body of the app's HTTP answer to a slash command, which Slack shows like a response_url post. */
  ack(origin: Origin, body: unknown): void {
    if (!body || typeof body !== 'object') return;
    const b = body as Record<string, any>;
    if (typeof b['text'] !== 'string' && !Array.isArray(b['blocks'])) return;
    this.add(origin, {
      user: this.slack.botUserId,
      text: String(b['text'] ?? ''),
      ...(Array.isArray(b['blocks']) ? { blocks: b['blocks'] } : {}),
      ...(b['response_type'] === 'in_channel' ? {} : { onlyFor: origin.user }),
    });
  }

  private add(origin: Origin, m: Pick<ViewMessage, 'user' | 'text' | 'blocks' | 'onlyFor' | 'command'>): void {
    const at = Date.now();
    this.echoes.push({
      key: `local:${++this.echoSeq}`,
      channel: origin.channel,
      ts: String(at / 1000),
      ...(origin.threadTs ? { threadTs: origin.threadTs } : {}),
      edited: false,
      at,
      ...m,
    });
  }

  snapshot(): FeedSnapshot {
    const messages: ViewMessage[] = [];
    for (const m of this.slack.messages.values()) {
      if (!m.deleted) messages.push(fromStored(m));
    }
    this.slack.ephemerals.forEach((e, i) => {
      messages.push({
        key: `eph:${i}`,
        channel: e.channel,
        ts: e.message_ts,
        ...(e.thread_ts ? { threadTs: e.thread_ts } : {}),
        user: this.slack.botUserId,
        text: e.text,
        ...(e.blocks ? { blocks: e.blocks } : {}),
        edited: false,
        onlyFor: e.user,
        at: e.at,
      });
    });
    for (const r of this.slack.responses) {
      const origin = this.origins.get(r.id);
      if (!origin || r.body?.delete_original) continue;
      const inChannel = r.body?.response_type === 'in_channel';
      messages.push({
        key: `resp:${r.id}:${r.at}`,
        channel: origin.channel,
        ts: String(r.at / 1000),
        ...(origin.threadTs ? { threadTs: origin.threadTs } : {}),
        user: this.slack.botUserId,
        text: String(r.body?.text ?? ''),
        ...(Array.isArray(r.body?.blocks) ? { blocks: r.body.blocks } : {}),
        ...(Array.isArray(r.body?.attachments) ? { attachments: r.body.attachments } : {}),
        edited: false,
        ...(inChannel ? {} : { onlyFor: origin.user }),
        at: r.at,
      });
    }
    messages.push(...this.echoes);
    messages.sort((a, b) => a.at - b.at);
    return { messages };
  }
}

function fromStored(m: StoredMessage): ViewMessage {
  return {
    key: `${m.channel}:${m.ts}`,
    channel: m.channel,
    ts: m.ts,
    ...(m.thread_ts && m.thread_ts !== m.ts ? { threadTs: m.thread_ts } : {}),
    user: m.user,
    text: m.text,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.files ? { files: m.files } : {}),
    edited: m.versions.length > 1,
    at: tsMs(m.ts),
  };
}
