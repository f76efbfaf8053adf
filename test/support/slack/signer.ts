/**
 * Sends requests to an HTTP Slack app exactly as Slack does: form-encoded bodies
 * (content type exactly `application/x-www-form-urlencoded`, no charset — Bolt
 * compares it verbatim), signed with HMAC-SHA256 over `v0:{ts}:{raw body}`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const DEFAULT_TEAM_ID = 'T0EMULATED';
export const DEFAULT_TEAM_DOMAIN = 'emulated';
export const DEFAULT_APP_ID = 'A0EMULATED';
export const DEFAULT_BOT_USER_ID = 'U0BOT';
export const DEFAULT_BOT_ID = 'B0BOT';
/** The deprecated verification token Slack still sends in every payload. */
export const DEFAULT_VERIFICATION_TOKEN = 'emulatedVerificationToken';

export interface SlashCommandFields {
  text: string;
  command?: string;
  channel_id?: string;
  channel_name?: string;
  user_id?: string;
  user_name?: string;
  team_id?: string;
  team_domain?: string;
  response_url?: string;
  trigger_id?: string;
  api_app_id?: string;
}

export interface BlockActionInput {
  user_id: string;
  user_name?: string;
  channel_id: string;
  channel_name?: string;
  message_ts: string;
  /** Set when the clicked message is a reply in a thread (container.thread_ts and message.thread_ts). */
  thread_ts?: string;
  action_id: string;
  block_id?: string;
  value: string;
  response_url?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  trigger_id?: string;
  is_ephemeral?: boolean;
  /** Button label (actions[0].text). */
  button_text?: string;
  /** Contents of the clicked message (e.g. from `emulator.message(channel, ts)`). */
  message?: { text?: string; blocks?: any[]; user?: string; bot_id?: string };
}

export interface SignOptions {
  /** Request timestamp in seconds (default: now). Older than 5 minutes is refused by Bolt. */
  timestampSec?: number;
  /** Send a signature that does not match (Bolt answers 401). */
  badSignature?: boolean;
  /** `x-slack-retry-num` header, as Slack sends on redelivery. */
  retryNum?: number;
  /** `x-slack-retry-reason` header (default `http_timeout` when retryNum is set). */
  retryReason?: string;
  /** Abort the request after this many ms (default: none). */
  timeoutMs?: number;
}

export interface SignedPostResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: any;
  headers: Record<string, string>;
  /** Time from sending the request to having the whole response body, in ms. */
  ms: number;
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  const us = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

/** The full field set Slack sends for a slash command, in Slack's order, defaults filled. */
export function slashCommandBody(fields: SlashCommandFields): Record<string, string> {
  const teamId = fields.team_id ?? DEFAULT_TEAM_ID;
  return {
    token: DEFAULT_VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: fields.team_domain ?? DEFAULT_TEAM_DOMAIN,
    channel_id: fields.channel_id ?? 'C0DEVTEAM',
    channel_name: fields.channel_name ?? 'dev-team',
    user_id: fields.user_id ?? 'U0DEV',
    user_name: fields.user_name ?? 'dev',
    command: fields.command ?? '/k8s',
    text: fields.text,
    api_app_id: fields.api_app_id ?? DEFAULT_APP_ID,
    is_enterprise_install: 'false',
    response_url: fields.response_url ?? `https://hooks.slack.com/commands/${teamId}/${Date.now()}/${randomBytes(12).toString('hex')}`,
    trigger_id: fields.trigger_id ?? triggerId(),
  };
}

/** The `block_actions` payload Slack sends when a button in a message is clicked. */
export function blockActionPayload(input: BlockActionInput): any {
  const teamId = input.team_id ?? DEFAULT_TEAM_ID;
  const teamDomain = input.team_domain ?? DEFAULT_TEAM_DOMAIN;
  const userName = input.user_name ?? input.user_id.toLowerCase();
  const blockId = input.block_id ?? randomBytes(3).toString('base64url');
  const container: Record<string, unknown> = {
    type: 'message',
    message_ts: input.message_ts,
    channel_id: input.channel_id,
    is_ephemeral: input.is_ephemeral ?? false,
  };
  if (input.thread_ts !== undefined) container['thread_ts'] = input.thread_ts;
  const message: Record<string, unknown> = {
    user: input.message?.user ?? DEFAULT_BOT_USER_ID,
    type: 'message',
    ts: input.message_ts,
    bot_id: input.message?.bot_id ?? DEFAULT_BOT_ID,
    app_id: input.api_app_id ?? DEFAULT_APP_ID,
    text: input.message?.text ?? '',
    team: teamId,
    blocks: input.message?.blocks ?? [],
  };
  if (input.thread_ts !== undefined) message['thread_ts'] = input.thread_ts;
  return {
    type: 'block_actions',
    user: { id: input.user_id, username: userName, name: userName, team_id: teamId },
    api_app_id: input.api_app_id ?? DEFAULT_APP_ID,
    token: DEFAULT_VERIFICATION_TOKEN,
    container,
    trigger_id: input.trigger_id ?? triggerId(),
    team: { id: teamId, domain: teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel_id, name: input.channel_name ?? input.channel_id.toLowerCase() },
    message,
    state: { values: {} },
    response_url: input.response_url ?? `https://hooks.slack.com/actions/${teamId}/${Date.now()}/${randomBytes(12).toString('hex')}`,
    actions: [
      {
        action_id: input.action_id,
        block_id: blockId,
        text: { type: 'plain_text', text: input.button_text ?? input.action_id, emoji: true },
        value: input.value,
        type: 'button',
        action_ts: actionTs(),
      },
    ],
  };
}

/** Slack's request signature headers for `rawBody`. */
export function sign(
  signingSecret: string,
  rawBody: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const hex = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${hex}`, 'x-slack-request-timestamp': String(timestampSec) };
}

/** Encode fields as Slack does (`+` for spaces, percent-escapes otherwise). */
export function formEncode(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** POST a form-encoded body, signed, and read the whole answer. */
export async function postSigned(url: string, signingSecret: string, rawBody: string, opts: SignOptions = {}): Promise<SignedPostResult> {
  const headers: Record<string, string> = {
    // exactly this, no charset: Bolt compares the content type verbatim
    'content-type': FORM_CONTENT_TYPE,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    accept: 'application/json,*/*',
    ...sign(opts.badSignature ? `${signingSecret}-wrong` : signingSecret, rawBody, opts.timestampSec),
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: rawBody,
    ...(opts.timeoutMs !== undefined ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const body = await res.text();
  const ms = performance.now() - started;
  const result: SignedPostResult = { status: res.status, body, headers: Object.fromEntries(res.headers), ms };
  if (body.length > 0) {
    try {
      result.json = JSON.parse(body);
    } catch {
      // not JSON (e.g. a plain-text ack body)
    }
  }
  return result;
}

/** Post a signed slash command to the app's events URL (e.g. `http://127.0.0.1:PORT/slack/events`). */
export async function postSlashCommand(
  appEventsUrl: string,
  signingSecret: string,
  fields: SlashCommandFields,
  opts: SignOptions = {},
): Promise<SignedPostResult> {
  return postSigned(appEventsUrl, signingSecret, formEncode(slashCommandBody(fields)), opts);
}

function isFullPayload(p: BlockActionInput | Record<string, any>): p is Record<string, any> {
  return Array.isArray((p as Record<string, unknown>)['actions']);
}

/** Post a signed button click (`payload=<block_actions JSON>`); accepts a full payload or the input to build one. */
export async function postBlockAction(
  appEventsUrl: string,
  signingSecret: string,
  payload: BlockActionInput | Record<string, any>,
  opts: SignOptions = {},
): Promise<SignedPostResult> {
  const full = isFullPayload(payload) ? payload : blockActionPayload(payload);
  return postSigned(appEventsUrl, signingSecret, formEncode({ payload: JSON.stringify(full) }), opts);
}

/** Build (or pass through) a block_actions payload. */
export function toBlockActionPayload(payload: BlockActionInput | Record<string, any>): any {
  return isFullPayload(payload) ? payload : blockActionPayload(payload);
}
