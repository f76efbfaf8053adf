/** Public shapes of the Slack emulator (re-exported by emulator.ts). */
import type { SocketModeEmulator } from './socket.js';

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
  /** Answers every call to `method` after `ms` (null: at once again), as a degraded Slack does. */
  setLatency(method: string, ms: number | null): void;
  setBotNotInChannel(channel: string, notIn?: boolean): void;
  /** Makes `user` a non-member of `channel` (chat.postEphemeral to them answers user_not_in_channel). */
  setUserNotInChannel(channel: string, user: string, notIn?: boolean): void;
  /** A message a person posted (the bot may not chat.update it: cant_update_message). */
  postAsUser(channel: string, user: string, text: string, threadTs?: string): StoredMessage;
  /** Moves the emulator's clock forward (response_url expiry, timestamps) without waiting. */
  advanceClock(ms: number): void;
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
