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
 *
 * This file wires the server; each API family lives in its own module:
 * chat.ts (chat.*, conversations.*), files.ts, directory.ts (auth, users,
 * user groups), limits.ts (fault injection, rate limits), response-url.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatHandlers } from './chat.js';
import { authError, directoryHandlers } from './directory.js';
import { Files } from './files.js';
import { fail, ok, parseArgs, readBody, send, Waitable, type Answer, type Handler } from './http.js';
import { Limits } from './limits.js';
import { ResponseUrls } from './response-url.js';
import { DEFAULT_APP_ID, DEFAULT_BOT_ID, DEFAULT_BOT_USER_ID, DEFAULT_TEAM_ID } from './signer.js';
import { attachSocketMode, SOCKET_PATH } from './socket.js';
import { Workspace } from './state.js';
import type { SlackCall, SlackEmulator, SlackEmulatorOptions } from './types.js';

export type {
  EmulatedUser,
  EphemeralMessage,
  ResponseUrlPost,
  SlackCall,
  SlackEmulator,
  SlackEmulatorOptions,
  SlackFailure,
  StoredMessage,
  Upload,
} from './types.js';

function summarize(c: SlackCall): string {
  const a = c.args;
  const parts = [a['channel'] ?? a['channel_id'], a['ts'], a['thread_ts'] && `thread ${a['thread_ts']}`].filter(Boolean).join(' ');
  const text = typeof a['text'] === 'string' ? ` "${a['text'].slice(0, 60)}"` : '';
  return `#${c.seq} ${c.method} ${c.ok ? 'ok' : `${c.status} ${c.error}`} ${parts}${text}`;
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const ws = new Workspace({
    botUserId: opts.botUserId ?? DEFAULT_BOT_USER_ID,
    botId: opts.botId ?? DEFAULT_BOT_ID,
    teamId: opts.teamId ?? DEFAULT_TEAM_ID,
    appId: opts.appId ?? DEFAULT_APP_ID,
  });
  const { appId } = ws.id;
  const calls = new Waitable<SlackCall>();
  const limits = new Limits(ws.now);
  const files = new Files(ws);
  const responseUrls = new ResponseUrls(ws);
  const tickets = new Set<string>();
  let seq = 0;
  let port = 0;

  const handlers: Record<string, Handler> = {
    ...directoryHandlers(ws),
    ...chatHandlers(ws, limits),
    ...files.handlers(),
    'apps.connections.open': () => {
      const ticket = randomBytes(16).toString('hex');
      tickets.add(ticket);
      return ok({ url: `ws://127.0.0.1:${port}${SOCKET_PATH}?ticket=${ticket}&app_id=${appId}` });
    },
  };

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
      limits.injected(method) ??
      authError(method, token, opts) ??
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
    const latency = limits.latency(method);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    calls.push(call);
    send(res, answer);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    let work: Promise<void>;
    if (path.startsWith('/api/')) {
      work = handleApi(req, res, decodeURIComponent(path.slice('/api/'.length)), url.searchParams);
    } else if (path.startsWith('/upload/v1/')) {
      work = files.handleUpload(req, res, decodeURIComponent(path.slice('/upload/v1/'.length)));
    } else if (path.startsWith('/response/') && req.method === 'POST') {
      work = responseUrls.handle(req, res, decodeURIComponent(path.slice('/response/'.length)));
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
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  ws.origin = origin;
  const socket = attachSocketMode(server, { appId, tickets });

  return {
    url: `${origin}/api/`,
    origin,
    port,
    ...ws.id,
    calls: calls.items,
    responses: responseUrls.posts.items,
    messages: ws.messages,
    ephemerals: ws.ephemerals,
    uploads: ws.uploads,
    users: ws.users,
    userGroups: ws.userGroups,
    channels: ws.channels,
    socket,
    newResponseUrl: () => responseUrls.newUrl(),
    waitForCall(pred, timeoutMs = 5000) {
      return calls.wait(pred, timeoutMs, () => {
        const recent = calls.items.slice(-15).map(summarize);
        return `Slack emulator: no matching Web API call within ${timeoutMs} ms. Recent calls (${calls.items.length} total):\n  ${recent.join('\n  ') || '(none)'}`;
      });
    },
    waitForResponse(pred, timeoutMs = 5000) {
      const posts = responseUrls.posts;
      return posts.wait(pred, timeoutMs, () => {
        const recent = posts.items.slice(-10).map((r) => `${r.id} ${JSON.stringify(r.body).slice(0, 120)}`);
        const recentCalls = calls.items.slice(-5).map(summarize);
        return `Slack emulator: no matching response_url post within ${timeoutMs} ms. Recent posts (${posts.items.length} total):\n  ${recent.join('\n  ') || '(none)'}\nRecent Web API calls:\n  ${recentCalls.join('\n  ') || '(none)'}`;
      });
    },
    callsTo: (method) => calls.items.filter((c) => c.method === method),
    failNext: (method, failure, times = 1) => limits.failNext(method, failure, times),
    setLatency: (method, ms) => limits.setLatency(method, ms),
    setBotNotInChannel(channel, notIn = true) {
      if (notIn) ws.notInChannel.add(channel);
      else ws.notInChannel.delete(channel);
    },
    setUserNotInChannel(channel, user, notIn = true) {
      if (notIn) ws.usersNotInChannel.add(`${channel}:${user}`);
      else ws.usersNotInChannel.delete(`${channel}:${user}`);
    },
    postAsUser: (channel, user, text, threadTs) => ws.storeMessage(channel, { text, user, ...(threadTs ? { thread_ts: threadTs } : {}) }),
    advanceClock(ms) {
      ws.clockOffsetMs += ms;
    },
    setChannelRateLimit: (limit) => limits.setChannelRateLimit(limit),
    message: (channel, ts) => ws.message(channel, ts),
    thread: (channel, ts) => ws.thread(channel, ts),
    topLevel: (channel) => ws.topLevel(channel),
    reset() {
      calls.clear();
      responseUrls.reset();
      ws.reset();
      files.reset();
      limits.reset();
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
