/**
 * A Slack Web API emulator: a real HTTP server on 127.0.0.1 that answers the
 * methods k8s-chatops uses the way Slack does, records every call, and can be
 * told to fail (errors, 429 + Retry-After, 5xx, per-channel rate limits).
 *
 * Point a WebClient (or Bolt's `clientOptions.slackApiUrl`, or SLACK_API_URL)
 * at `emulator.url`. What @slack/web-api 8 sends: POST, body
 * `application/x-www-form-urlencoded` with objects/arrays JSON-encoded per field,
 * token as `Authorization: Bearer …`; binary bodies (the upload step of
 * filesUploadV2) as multipart/form-data with the bytes in a field named `body`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { attachSocketMode, SOCKET_PATH, type SocketModeEmulator } from './socket.js';
import { DEFAULT_APP_ID, DEFAULT_BOT_ID, DEFAULT_BOT_USER_ID, DEFAULT_TEAM_ID } from './signer.js';

export interface SlackCall {
  /** Sequence number, from 1, in arrival order (not reset by reset()). */
  seq: number;
  method: string;
  /** Request arguments; fields holding JSON (blocks, attachments, files, …) are parsed. Token removed. */
  args: Record<string, any>;
  token?: string;
  /** Date.now() when the call was answered. */
  at: number;
  /** HTTP status answered. */
  status: number;
  ok: boolean;
  error?: string;
  /** Answered 429 (failNext or the per-channel rate limit). */
  rateLimited?: boolean;
  /** The JSON body answered. */
  response: any;
}

export interface ResponseUrlPost {
  id: string;
  body: any;
  at: number;
}

export interface SlackFailure {
  /** Slack error code. With no status: HTTP 200 `{ok:false,error}`. */
  error?: string;
  /** HTTP status: 429 answers `Retry-After` and `{ok:false,error:'ratelimited'}`; others `{ok:false,error}`. */
  status?: number;
  /** Seconds for Retry-After (429 only; default 1). */
  retryAfter?: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: any[];
  attachments?: any[];
  user: string;
  bot_id: string;
  subtype?: string;
  files?: { id: string; name: string; title: string }[];
  deleted?: boolean;
  /** Every version of the message, first = as posted; the last equals text/blocks. */
  versions: { at: number; text: string; blocks?: any[]; attachments?: any[] }[];
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  message_ts: string;
  thread_ts?: string;
  text: string;
  blocks?: any[];
  at: number;
}

export interface EmulatedUser {
  id: string;
  name: string;
  real_name?: string;
  tz?: string;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface Upload {
  fileId: string;
  filename: string;
  bytes: Buffer;
  channel?: string;
  threadTs?: string;
  title?: string;
  initialComment?: string;
}

export interface SlackEmulatorOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appId?: string;
  /** Accepted by apps.connections.open (default: any `xapp-` token). */
  appToken?: string;
  /** If set, Web API calls with another token answer invalid_auth (default: any token). */
  botToken?: string;
}

export interface SlackEmulator {
  /** Web API base, ending in '/api/' (WebClient `slackApiUrl`, SLACK_API_URL). */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
  calls: SlackCall[];
  responses: ResponseUrlPost[];
  /** Messages by `${channel}:${ts}`, latest state after chat.update/chat.delete. */
  messages: Map<string, StoredMessage>;
  ephemerals: EphemeralMessage[];
  uploads: Upload[];
  users: Map<string, EmulatedUser>;
  userGroups: Map<string, string[]>;
  /** Optional channel names/privacy for conversations.info (default name: id lower-cased). */
  channels: Map<string, { name: string; is_private?: boolean }>;
  socket: SocketModeEmulator;

  newResponseUrl(): string;
  waitForCall(pred: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  waitForResponse(pred: (r: ResponseUrlPost) => boolean, timeoutMs?: number): Promise<ResponseUrlPost>;
  callsTo(method: string): SlackCall[];
  failNext(method: string, failure: SlackFailure, times?: number): void;
  setBotNotInChannel(channel: string, notIn?: boolean): void;
  setChannelRateLimit(opts: { perSecond: number; burst?: number } | null): void;
  message(channel: string, ts: string): StoredMessage | undefined;
  /** Replies to the thread rooted at `ts`, oldest first (the parent excluded). */
  thread(channel: string, ts: string): StoredMessage[];
  /** Top-level messages in the channel (not thread replies), oldest first. */
  topLevel(channel: string): StoredMessage[];
  /** Clear recorded traffic and state (calls, responses, messages, uploads) and all fault injection. Keeps users/userGroups/channels. */
  reset(): void;
  close(): Promise<void>;
}

/** Form fields that WebClient JSON-encodes and that are parsed back into objects in `SlackCall.args`. */
const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'files',
  'metadata',
  'user_auth_blocks',
  'view',
  'unfurls',
  'file_uploads',
]);

const MAX_RESPONSE_URL_POSTS = 5;

class Waitable<T> {
  readonly items: T[] = [];
  private waiters = new Set<{ pred: (x: T) => boolean; resolve: (x: T) => void }>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) {
      if (w.pred(item)) {
        this.waiters.delete(w);
        w.resolve(item);
      }
    }
  }

  wait(pred: (x: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
    const found = this.items.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (x: T) => {
          clearTimeout(timer);
          resolve(x);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(describe()));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  clear(): void {
    this.items.length = 0;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseFormValue(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

async function parseArgs(req: IncomingMessage, raw: Buffer, query: URLSearchParams): Promise<Record<string, any>> {
  const args: Record<string, any> = {};
  for (const [k, v] of query) args[k] = parseFormValue(k, v);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (raw.length === 0) return args;
  if (type === 'application/json') {
    Object.assign(args, JSON.parse(raw.toString('utf8')));
  } else if (type === 'multipart/form-data') {
    const form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type']! },
      body: raw,
    }).formData();
    for (const [k, v] of form) {
      args[k] = typeof v === 'string' ? parseFormValue(k, v) : Buffer.from(await v.arrayBuffer());
    }
  } else {
    const parsed = parseQuery(raw.toString('utf8'));
    for (const [k, v] of Object.entries(parsed)) {
      if (v === undefined) continue;
      args[k] = Array.isArray(v) ? v.map((x) => parseFormValue(k, x)) : parseFormValue(k, v);
    }
  }
  return args;
}

interface Answer {
  status: number;
  body: any;
  headers?: Record<string, string>;
  rateLimited?: boolean;
}

const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});
const rateLimited = (retryAfter: number, error = 'ratelimited'): Answer => ({
  status: 429,
  body: { ok: false, error },
  headers: { 'retry-after': String(retryAfter) },
  rateLimited: true,
});

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function summarize(c: SlackCall): string {
  const a = c.args;
  const parts = [a['channel'] ?? a['channel_id'], a['ts'], a['thread_ts'] && `thread ${a['thread_ts']}`]
    .filter(Boolean)
    .join(' ');
  const text = typeof a['text'] === 'string' ? ` "${a['text'].slice(0, 60)}"` : '';
  return `#${c.seq} ${c.method} ${c.ok ? 'ok' : `${c.status} ${c.error}`} ${parts}${text}`;
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const botUserId = opts.botUserId ?? DEFAULT_BOT_USER_ID;
  const botId = opts.botId ?? DEFAULT_BOT_ID;
  const teamId = opts.teamId ?? DEFAULT_TEAM_ID;
  const appId = opts.appId ?? DEFAULT_APP_ID;

  const calls = new Waitable<SlackCall>();
  const responses = new Waitable<ResponseUrlPost>();
  const messages = new Map<string, StoredMessage>();
  const ephemerals: EphemeralMessage[] = [];
  const uploads: Upload[] = [];
  const users = new Map<string, EmulatedUser>();
  const userGroups = new Map<string, string[]>();
  const channels = new Map<string, { name: string; is_private?: boolean }>();
  const failures = new Map<string, { failure: SlackFailure; remaining: number }[]>();
  const notInChannel = new Set<string>();
  const pendingFiles = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  const completedFiles = new Set<string>();
  const responseUrlPosts = new Map<string, number>();
  const tickets = new Set<string>();
  let channelLimit: { perSecond: number; burst: number } | null = null;
  const buckets = new Map<string, { tokens: number; last: number }>();
  let seq = 0;
  let lastMicros = 0;
  let fileCounter = 0;
  let origin = '';

  function nextTs(): string {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  }
  const key = (channel: string, ts: string): string => `${channel}:${ts}`;

  /** Resolve a channel argument like Slack: a user id posts to that user's DM. */
  function resolveChannel(ch: string): string {
    return /^[UW][A-Z0-9]+$/.test(ch) ? `D${ch.slice(1)}` : ch;
  }
  /** channel_not_found / not_in_channel check for a write to `channel`. */
  function channelError(channel: string | undefined): Answer | undefined {
    if (!channel) return fail('channel_not_found');
    if (channel.startsWith('C404')) return fail('channel_not_found');
    if (notInChannel.has(channel)) return fail('not_in_channel');
    return undefined;
  }
  function takeRateToken(channel: string): Answer | undefined {
    if (!channelLimit) return undefined;
    const now = Date.now();
    const b = buckets.get(channel) ?? { tokens: channelLimit.burst, last: now };
    b.tokens = Math.min(channelLimit.burst, b.tokens + ((now - b.last) / 1000) * channelLimit.perSecond);
    b.last = now;
    buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return rateLimited(Math.max(1, Math.ceil((1 - b.tokens) / channelLimit.perSecond)));
  }

  function messageJson(m: StoredMessage): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: 'message',
      user: m.user,
      bot_id: m.bot_id,
      app_id: appId,
      text: m.text,
      ts: m.ts,
      team: teamId,
      bot_profile: { id: botId, app_id: appId, name: 'k8s-chatops', deleted: false, team_id: teamId },
    };
    if (m.subtype) out['subtype'] = m.subtype;
    if (m.blocks) out['blocks'] = m.blocks;
    if (m.attachments) out['attachments'] = m.attachments;
    if (m.thread_ts) {
      out['thread_ts'] = m.thread_ts;
      if (m.thread_ts !== m.ts) out['parent_user_id'] = messages.get(key(m.channel, m.thread_ts))?.user ?? botUserId;
    }
    if (m.files) out['files'] = m.files;
    if (m.versions.length > 1) out['edited'] = { user: m.user, ts: m.versions[m.versions.length - 1]!.at / 1000 };
    return out;
  }

  function storeMessage(
    channel: string,
    fields: { text: string; blocks?: any[]; attachments?: any[]; thread_ts?: string; subtype?: string; files?: StoredMessage['files'] },
  ): StoredMessage {
    const ts = nextTs();
    const m: StoredMessage = {
      channel,
      ts,
      text: fields.text,
      user: botUserId,
      bot_id: botId,
      versions: [{ at: Date.now(), text: fields.text, blocks: fields.blocks, attachments: fields.attachments }],
    };
    if (fields.thread_ts) m.thread_ts = fields.thread_ts;
    if (fields.blocks) m.blocks = fields.blocks;
    if (fields.attachments) m.attachments = fields.attachments;
    if (fields.subtype) m.subtype = fields.subtype;
    if (fields.files) m.files = fields.files;
    messages.set(key(channel, ts), m);
    // A reply makes the parent a thread root (Slack sets thread_ts on the parent too).
    if (fields.thread_ts) {
      const parent = messages.get(key(channel, fields.thread_ts));
      if (parent && !parent.thread_ts) parent.thread_ts = parent.ts;
    }
    return m;
  }

  function hasContent(args: Record<string, any>): boolean {
    return (
      (typeof args['text'] === 'string' && args['text'].length > 0) ||
      (Array.isArray(args['blocks']) && args['blocks'].length > 0) ||
      (Array.isArray(args['attachments']) && args['attachments'].length > 0)
    );
  }

  const handlers: Record<string, (args: Record<string, any>, token: string | undefined) => Answer> = {
    'api.test': (args) => ok({ args }),
    'auth.test': () =>
      ok({
        url: 'https://emulated.slack.com/',
        team: 'Emulated',
        user: 'k8s-chatops',
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      }),
    'apps.connections.open': () => {
      const ticket = randomBytes(16).toString('hex');
      tickets.add(ticket);
      return ok({ url: `ws://127.0.0.1:${port}${SOCKET_PATH}?ticket=${ticket}&app_id=${appId}` });
    },
    'chat.postMessage': (args) => {
      const raw = str(args['channel']);
      if (!raw) return fail('channel_not_found');
      const channel = resolveChannel(raw);
      const err = channelError(channel);
      if (err) return err;
      if (!hasContent(args)) return fail('no_text');
      const limited = takeRateToken(channel);
      if (limited) return limited;
      const threadTs = str(args['thread_ts']);
      const m = storeMessage(channel, {
        text: str(args['text']) ?? '',
        blocks: args['blocks'],
        attachments: args['attachments'],
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return ok({ channel, ts: m.ts, message: messageJson(m) });
    },
    'chat.update': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      if (!channel) return fail('channel_not_found');
      const err = channelError(channel);
      if (err) return err;
      const m = ts ? messages.get(key(channel, ts)) : undefined;
      if (!m || m.deleted) return fail('message_not_found');
      if (!hasContent(args) && args['text'] === undefined) return fail('no_text');
      if (args['text'] !== undefined) m.text = str(args['text']) ?? '';
      if (args['blocks'] !== undefined) m.blocks = Array.isArray(args['blocks']) ? args['blocks'] : undefined;
      if (args['attachments'] !== undefined)
        m.attachments = Array.isArray(args['attachments']) ? args['attachments'] : undefined;
      m.versions.push({ at: Date.now(), text: m.text, blocks: m.blocks, attachments: m.attachments });
      return ok({ channel, ts: m.ts, text: m.text, message: messageJson(m) });
    },
    'chat.delete': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      const m = channel && ts ? messages.get(key(channel, ts)) : undefined;
      if (!m || m.deleted) return fail('message_not_found');
      m.deleted = true;
      return ok({ channel, ts });
    },
    'chat.postEphemeral': (args) => {
      const raw = str(args['channel']);
      if (!raw) return fail('channel_not_found');
      const channel = resolveChannel(raw);
      const err = channelError(channel);
      if (err) return err;
      const user = str(args['user']);
      if (!user) return fail('user_not_found');
      if (!hasContent(args)) return fail('no_text');
      const message_ts = nextTs();
      const e: EphemeralMessage = { channel, user, message_ts, text: str(args['text']) ?? '', at: Date.now() };
      const threadTs = str(args['thread_ts']);
      if (threadTs) e.thread_ts = threadTs;
      if (Array.isArray(args['blocks'])) e.blocks = args['blocks'];
      ephemerals.push(e);
      return ok({ message_ts });
    },
    'conversations.info': (args) => {
      const channel = str(args['channel']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      const info = channels.get(channel);
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
          is_member: !notInChannel.has(channel),
          created: 1700000000,
          context_team_id: teamId,
        },
      });
    },
    'conversations.replies': (args) => {
      const channel = str(args['channel']);
      const ts = str(args['ts']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      if (notInChannel.has(channel)) return fail('not_in_channel');
      const parent = ts ? messages.get(key(channel, ts)) : undefined;
      if (!parent || parent.deleted) return fail('thread_not_found');
      const root = parent.thread_ts ?? parent.ts;
      const rootMsg = messages.get(key(channel, root));
      const list = [...(rootMsg && !rootMsg.deleted ? [rootMsg] : []), ...thread(channel, root)];
      return ok({ messages: list.map(messageJson), has_more: false });
    },
    'conversations.history': (args) => {
      const channel = str(args['channel']);
      if (!channel || channel.startsWith('C404')) return fail('channel_not_found');
      if (notInChannel.has(channel)) return fail('not_in_channel');
      const list = topLevel(channel).reverse();
      const limit = Number(args['limit'] ?? 100);
      return ok({ messages: list.slice(0, limit).map(messageJson), has_more: list.length > limit });
    },
    'users.info': (args) => {
      const id = str(args['user']);
      const u = id ? users.get(id) : undefined;
      if (!u) return fail('user_not_found');
      return ok({
        user: {
          id: u.id,
          team_id: teamId,
          name: u.name,
          deleted: u.deleted ?? false,
          real_name: u.real_name ?? u.name,
          tz: u.tz ?? 'Etc/UTC',
          is_bot: u.is_bot ?? false,
          is_admin: false,
          profile: { real_name: u.real_name ?? u.name, display_name: u.name, team: teamId },
        },
      });
    },
    'usergroups.users.list': (args) => {
      const id = str(args['usergroup']);
      const members = id ? userGroups.get(id) : undefined;
      if (!members) return fail('no_such_subteam');
      return ok({ users: [...members] });
    },
    'files.getUploadURLExternal': (args) => {
      const filename = str(args['filename']);
      const length = Number(args['length']);
      if (!filename || !Number.isFinite(length) || length < 0) return fail('invalid_arguments');
      fileCounter += 1;
      const fileId = `F0EMU${String(fileCounter).padStart(6, '0')}`;
      pendingFiles.set(fileId, { filename, length });
      return ok({ upload_url: `${origin}/upload/v1/${fileId}`, file_id: fileId });
    },
    'files.completeUploadExternal': (args) => {
      const files = args['files'];
      if (!Array.isArray(files) || files.length === 0) return fail('invalid_arguments');
      const channel = str(args['channel_id']);
      if (channel) {
        const err = channelError(channel);
        if (err) return err;
      }
      for (const f of files) {
        const p = pendingFiles.get(f?.id);
        // Completing a file that was never announced or never uploaded: Slack answers file_not_found.
        if (!p || !p.bytes || completedFiles.has(f.id)) return fail('file_not_found');
      }
      const threadTs = str(args['thread_ts']);
      const initialComment = str(args['initial_comment']);
      const out: Record<string, unknown>[] = [];
      const shared: { id: string; name: string; title: string }[] = [];
      for (const f of files) {
        const p = pendingFiles.get(f.id)!;
        completedFiles.add(f.id);
        const title = str(f.title) ?? p.filename;
        const u: Upload = { fileId: f.id, filename: p.filename, bytes: p.bytes!, title };
        if (channel) u.channel = channel;
        if (threadTs) u.threadTs = threadTs;
        if (initialComment) u.initialComment = initialComment;
        uploads.push(u);
        shared.push({ id: f.id, name: p.filename, title });
        out.push({
          id: f.id,
          created: Math.floor(Date.now() / 1000),
          timestamp: Math.floor(Date.now() / 1000),
          name: p.filename,
          title,
          mimetype: p.filename.endsWith('.txt') || p.filename.endsWith('.log') ? 'text/plain' : 'application/octet-stream',
          size: p.bytes!.length,
          user: botUserId,
          url_private: `${origin}/files/${f.id}/${encodeURIComponent(p.filename)}`,
          permalink: `https://emulated.slack.com/files/${botUserId}/${f.id}/${encodeURIComponent(p.filename)}`,
        });
      }
      if (channel) {
        // Slack shares the files as a message in the channel (or thread).
        storeMessage(channel, {
          text: initialComment ?? '',
          subtype: 'file_share',
          files: shared,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
      }
      return ok({ files: out });
    },
  };

  function authError(method: string, token: string | undefined): Answer | undefined {
    if (method === 'api.test') return undefined;
    if (!token) return fail('not_authed');
    if (method === 'apps.connections.open') {
      if (opts.appToken !== undefined) return token === opts.appToken ? undefined : fail('invalid_auth');
      return token.startsWith('xapp-') ? undefined : fail('not_allowed_token_type');
    }
    if (token.startsWith('xapp-')) return fail('not_allowed_token_type');
    if (opts.botToken !== undefined && token !== opts.botToken) return fail('invalid_auth');
    return undefined;
  }

  function injectedFailure(method: string): Answer | undefined {
    const queue = failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    const f = head.failure;
    if (f.status === 429) return rateLimited(f.retryAfter ?? 1, f.error ?? 'ratelimited');
    if (f.status !== undefined && f.status !== 200)
      return { status: f.status, body: { ok: false, error: f.error ?? 'internal_error' } };
    return fail(f.error ?? 'fatal_error');
  }

  function send(res: ServerResponse, a: Answer): void {
    const body = JSON.stringify(a.body);
    res.writeHead(a.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(a.headers ?? {}),
    });
    res.end(body);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams) {
    const raw = await readBody(req);
    let args: Record<string, any>;
    try {
      args = await parseArgs(req, raw, query);
    } catch {
      send(res, fail('invalid_form_data'));
      return;
    }
    let token: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) token = auth.slice('Bearer '.length);
    if (typeof args['token'] === 'string') {
      token ??= args['token'];
      delete args['token'];
    }
    const handler = handlers[method];
    const answer: Answer =
      injectedFailure(method) ??
      authError(method, token) ??
      (handler ? handler(args, token) : fail('unknown_method', { req_method: method }));
    const call: SlackCall = {
      seq: ++seq,
      method,
      args,
      at: Date.now(),
      status: answer.status,
      ok: answer.body?.ok === true,
      response: answer.body,
    };
    if (token !== undefined) call.token = token;
    if (typeof answer.body?.error === 'string') call.error = answer.body.error;
    if (answer.rateLimited) call.rateLimited = true;
    calls.push(call);
    send(res, answer);
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, fileId: string) {
    const raw = await readBody(req);
    const p = pendingFiles.get(fileId);
    if (!p || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    let bytes = raw;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'multipart/form-data') {
      // WebClient's filesUploadV2 posts multipart with the bytes in a field named `body`.
      const args = await parseArgs(req, raw, new URLSearchParams());
      const file = Buffer.isBuffer(args['body'])
        ? args['body']
        : (Object.values(args).find((v) => Buffer.isBuffer(v)) as Buffer | undefined);
      if (file) bytes = file;
    }
    p.bytes = bytes;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`OK - ${bytes.length}`);
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string) {
    const raw = await readBody(req);
    const text = raw.toString('utf8');
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type === 'application/x-www-form-urlencoded') {
        const q = parseQuery(text);
        body = typeof q['payload'] === 'string' ? JSON.parse(q['payload']) : q;
      }
    }
    const n = (responseUrlPosts.get(id) ?? 0) + 1;
    responseUrlPosts.set(id, n);
    if (n > MAX_RESPONSE_URL_POSTS) {
      send(res, { status: 404, body: { ok: false, error: 'used_url' } });
      return;
    }
    responses.push({ id, body, at: Date.now() });
    send(res, ok());
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    let work: Promise<void>;
    if (path.startsWith('/api/')) {
      work = handleApi(req, res, decodeURIComponent(path.slice('/api/'.length)), url.searchParams);
    } else if (path.startsWith('/upload/v1/')) {
      work = handleUpload(req, res, decodeURIComponent(path.slice('/upload/v1/'.length)));
    } else if (path.startsWith('/response/') && req.method === 'POST') {
      work = handleResponseUrl(req, res, decodeURIComponent(path.slice('/response/'.length)));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    work.catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  const socket = attachSocketMode(server, { appId, tickets });

  function thread(channel: string, ts: string): StoredMessage[] {
    return [...messages.values()].filter(
      (m) => m.channel === channel && m.thread_ts === ts && m.ts !== ts && !m.deleted,
    );
  }
  function topLevel(channel: string): StoredMessage[] {
    return [...messages.values()].filter(
      (m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts) && !m.deleted,
    );
  }

  return {
    url: `${origin}/api/`,
    origin,
    port,
    botUserId,
    botId,
    teamId,
    appId,
    calls: calls.items,
    responses: responses.items,
    messages,
    ephemerals,
    uploads,
    users,
    userGroups,
    channels,
    socket,
    newResponseUrl() {
      return `${origin}/response/${randomBytes(8).toString('hex')}`;
    },
    waitForCall(pred, timeoutMs = 5000) {
      return calls.wait(pred, timeoutMs, () => {
        const recent = calls.items.slice(-15).map(summarize);
        return `Slack emulator: no matching Web API call within ${timeoutMs} ms. Recent calls (${calls.items.length} total):\n  ${recent.join('\n  ') || '(none)'}`;
      });
    },
    waitForResponse(pred, timeoutMs = 5000) {
      return responses.wait(pred, timeoutMs, () => {
        const recent = responses.items.slice(-10).map((r) => `${r.id} ${JSON.stringify(r.body).slice(0, 120)}`);
        const recentCalls = calls.items.slice(-5).map(summarize);
        return `Slack emulator: no matching response_url post within ${timeoutMs} ms. Recent posts (${responses.items.length} total):\n  ${recent.join('\n  ') || '(none)'}\nRecent Web API calls:\n  ${recentCalls.join('\n  ') || '(none)'}`;
      });
    },
    callsTo(method) {
      return calls.items.filter((c) => c.method === method);
    },
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ failure, remaining: times });
      failures.set(method, queue);
    },
    setBotNotInChannel(channel, notIn = true) {
      if (notIn) notInChannel.add(channel);
      else notInChannel.delete(channel);
    },
    setChannelRateLimit(limit) {
      buckets.clear();
      channelLimit = limit
        ? { perSecond: limit.perSecond, burst: limit.burst ?? Math.max(1, Math.ceil(limit.perSecond * 2)) }
        : null;
    },
    message(channel, ts) {
      return messages.get(key(channel, ts));
    },
    thread,
    topLevel,
    reset() {
      calls.clear();
      responses.clear();
      messages.clear();
      ephemerals.length = 0;
      uploads.length = 0;
      failures.clear();
      notInChannel.clear();
      pendingFiles.clear();
      completedFiles.clear();
      responseUrlPosts.clear();
      channelLimit = null;
      buckets.clear();
    },
    async close() {
      await socket.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
