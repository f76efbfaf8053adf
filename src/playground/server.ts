/**
 * The playground's web server: the page, a JSON API the page calls, and a
 * server-sent event stream of the workspace and the cluster. It plays Slack's
 * part towards the bot: commands and clicks reach the bot's /slack/events
 * form-encoded and signed with the signing secret, exactly as Slack sends them.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeEmulator } from '../../test/support/kube/index.js';
import { postBlockAction, postSlashCommand, type SlackEmulator } from '../../test/support/slack/index.js';
import { Chaos, ChaosError, CHAOS_ACTIONS, clusterSnapshot, type ChaosAction } from './cluster.js';
import { Feed, type Origin } from './feed.js';
import { BOT_NAME, CHANNELS, USERS } from './workspace.js';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const STATIC_FILES = new Set(['index.html', 'app.js', 'mrkdwn.js', 'style.css']);
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface PlaygroundServerOptions {
  slack: SlackEmulator;
  kube: KubeEmulator;
  /** The bot's Slack events URL and signing secret. */
  eventsUrl: string;
  signingSecret: string;
  port: number;
}

export interface PlaygroundServer {
  url: string;
  feed: Feed;
  close(): Promise<void>;
}

class BadRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64_000) throw new BadRequest('request too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error();
    return body;
  } catch {
    throw new BadRequest('the body must be a JSON object');
  }
}

const str = (body: Record<string, unknown>, key: string, required = true): string | undefined => {
  const v = body[key];
  if (typeof v === 'string' && v.length > 0) return v;
  if (required) throw new BadRequest(`${key} is required`);
  return undefined;
};

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Calls `onChange` (coalesced) whenever the Slack emulator records a call or a response_url post. */
function watchSlack(slack: SlackEmulator, onChange: () => void, signal: AbortSignal): void {
  const seen = new WeakSet<object>();
  void (async () => {
    while (!signal.aborted) {
      const last = slack.calls.at(-1)?.seq ?? 0;
      await slack.waitForCall((c) => c.seq > last, 30_000).then(onChange, () => undefined);
    }
  })();
  void (async () => {
    while (!signal.aborted) {
      for (const r of slack.responses) seen.add(r);
      await slack.waitForResponse((r) => !seen.has(r), 30_000).then(onChange, () => undefined);
    }
  })();
}

function watchKube(kube: KubeEmulator, onChange: () => void, signal: AbortSignal): void {
  void (async () => {
    while (!signal.aborted) {
      const last = kube.resourceVersion();
      await kube.waitFor(() => kube.resourceVersion() !== last, 30_000, 'a change').then(onChange, () => undefined);
    }
  })();
}

export async function startPlaygroundServer(opts: PlaygroundServerOptions): Promise<PlaygroundServer> {
  const { slack, kube } = opts;
  const feed = new Feed(slack);
  const chaos = new Chaos(kube);
  const clients = new Set<ServerResponse>();
  const stop = new AbortController();

  const push = (event: string, data: () => unknown) => {
    let timer: NodeJS.Timeout | undefined;
    return (now = false) => {
      const emit = () => {
        timer = undefined;
        const line = `event: ${event}\ndata: ${JSON.stringify(data())}\n\n`;
        for (const c of clients) c.write(line);
      };
      if (now) return emit();
      // Coalesce bursts (a rollout makes many changes at once) into one frame.
      timer ??= setTimeout(emit, 40);
    };
  };
  const pushFeed = push('feed', () => feed.snapshot());
  const pushCluster = push('cluster', () => clusterSnapshot(kube));
  watchSlack(slack, () => pushFeed(), stop.signal);
  watchKube(kube, () => pushCluster(), stop.signal);

  const origin = (body: Record<string, unknown>): Origin => {
    const user = str(body, 'user')!;
    const channel = str(body, 'channel')!;
    if (!USERS.some((u) => u.id === user)) throw new BadRequest(`unknown user ${user}`);
    if (!CHANNELS.some((c) => c.id === channel)) throw new BadRequest(`unknown channel ${channel}`);
    const threadTs = str(body, 'threadTs', false);
    return { user, channel, ...(threadTs ? { threadTs } : {}) };
  };
  const nameOf = (userId: string) => USERS.find((u) => u.id === userId)?.name ?? userId.toLowerCase();
  const channelName = (id: string) => CHANNELS.find((c) => c.id === id)?.name ?? id.toLowerCase();

  const api: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    async command(body) {
      const o = origin(body);
      const text = (str(body, 'text', false) ?? '').trim();
      feed.echo(o, `/k8s ${text}`);
      pushFeed(true);
      // Slack sends the command with the channel's response_url; its answers come back through it.
      const res = await postSlashCommand(opts.eventsUrl, opts.signingSecret, {
        text,
        channel_id: o.channel,
        channel_name: channelName(o.channel),
        user_id: o.user,
        user_name: nameOf(o.user),
        response_url: feed.responseUrl({ user: o.user, channel: o.channel }),
      });
      if (res.status !== 200) throw new Error(`the bot answered HTTP ${res.status}`);
      feed.ack({ user: o.user, channel: o.channel }, res.json);
      pushFeed(true);
      return { ok: true };
    },
    async action(body) {
      const o = origin(body);
      const messageTs = str(body, 'messageTs')!;
      const stored = slack.message(o.channel, messageTs);
      const res = await postBlockAction(opts.eventsUrl, opts.signingSecret, {
        user_id: o.user,
        user_name: nameOf(o.user),
        channel_id: o.channel,
        channel_name: channelName(o.channel),
        message_ts: messageTs,
        ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
        action_id: str(body, 'actionId')!,
        ...(str(body, 'blockId', false) ? { block_id: str(body, 'blockId')! } : {}),
        value: str(body, 'value', false) ?? '',
        button_text: str(body, 'buttonText', false) ?? '',
        is_ephemeral: !stored,
        response_url: feed.responseUrl(o),
        ...(stored
          ? {
              message: { text: stored.text, ...(stored.blocks ? { blocks: stored.blocks } : {}), user: stored.user, bot_id: stored.bot_id },
            }
          : {}),
      });
      if (res.status !== 200) throw new Error(`the bot answered HTTP ${res.status}`);
      return { ok: true };
    },
    async chaos(body) {
      const action = str(body, 'action') as ChaosAction;
      if (!CHAOS_ACTIONS.includes(action)) throw new BadRequest(`action must be one of ${CHAOS_ACTIONS.join(', ')}`);
      const what = chaos.run({
        action,
        ...(str(body, 'namespace', false) ? { namespace: str(body, 'namespace')! } : {}),
        ...(str(body, 'pod', false) ? { pod: str(body, 'pod')! } : {}),
        ...(str(body, 'node', false) ? { node: str(body, 'node')! } : {}),
      });
      return { ok: true, message: what };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://playground');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/api/workspace') {
      return send(res, 200, { users: USERS, channels: CHANNELS, bot: { id: slack.botUserId, name: BOT_NAME }, command: '/k8s' });
    }
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(
        `event: feed\ndata: ${JSON.stringify(feed.snapshot())}\n\nevent: cluster\ndata: ${JSON.stringify(clusterSnapshot(kube))}\n\n`,
      );
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.method === 'POST' && path.startsWith('/api/')) {
      const handler = api[path.slice('/api/'.length)];
      if (!handler) return send(res, 404, { ok: false, error: 'no such endpoint' });
      try {
        return send(res, 200, await handler(await readJson(req)));
      } catch (err) {
        if (err instanceof BadRequest || err instanceof ChaosError) return send(res, 400, { ok: false, error: err.message });
        return send(res, 502, { ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (req.method === 'GET' && path.startsWith('/files/')) {
      const upload = slack.uploads.find((u) => u.fileId === decodeURIComponent(path.slice('/files/'.length)));
      if (!upload) return send(res, 404, { ok: false, error: 'no such file' });
      const type = TYPES[extname(upload.filename).toLowerCase()] ?? 'text/plain; charset=utf-8';
      // Files are shown as text or images only, never as a page of their own.
      res.writeHead(200, {
        'content-type': type.startsWith('text/html') ? 'text/plain; charset=utf-8' : type,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      res.end(upload.bytes);
      return;
    }
    if (req.method === 'GET') {
      const file = path === '/' ? 'index.html' : path.slice(1);
      if (STATIC_FILES.has(file)) {
        const bytes = await readFile(join(STATIC_DIR, file));
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy':
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        });
        res.end(bytes);
        return;
      }
    }
    send(res, 404, { ok: false, error: 'not found' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: String(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // The preferred port is taken: any free one will do.
      if (err.code === 'EADDRINUSE' && opts.port !== 0) server.listen(0, '127.0.0.1', resolve);
      else reject(err);
    });
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    feed,
    async close() {
      stop.abort();
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
