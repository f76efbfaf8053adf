/**
 * Socket Mode emulation: `apps.connections.open` hands out
 * `ws://127.0.0.1:PORT/socket?ticket=…&app_id=…` (see emulator.ts); this module
 * serves that WebSocket on the emulator's HTTP server.
 *
 * Protocol (as @slack/socket-mode 3 expects it):
 * - server → client on connect: `{"type":"hello", num_connections, debug_info, connection_info:{app_id}}`;
 *   the client treats `hello` as "connected".
 * - server → client: envelopes `{envelope_id, type, payload, accepts_response_payload, retry_attempt, retry_reason}`.
 * - client → server: acks `{envelope_id, payload}` (payload `{}` for a bare ack()).
 * - server → client `{"type":"disconnect","reason":"refresh_requested"}`: the client closes and,
 *   after `clientPingTimeout` ms (5 s by default), calls apps.connections.open again.
 * - The client pings every clientPingTimeout/3 ms; `ws` answers pongs automatically.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';
import { type BlockActionInput, type SlashCommandFields, slashCommandBody, toBlockActionPayload } from './signer.js';

export interface SocketAck {
  envelope_id: string;
  /** What the client put in its ack (`{}` for a bare `ack()`). */
  payload?: any;
  /** Time from sending the envelope to receiving the ack, in ms. */
  ms: number;
}

export interface SocketEnvelopeOptions {
  /** Reject when no ack arrives within this time (default 5000 ms). */
  timeoutMs?: number;
  retryAttempt?: number;
  retryReason?: string;
}

export interface SocketModeEmulator {
  /** Open WebSocket connections (that were sent `hello`). */
  readonly connections: number;
  /** Connections accepted since start (a reconnect increments it). */
  readonly totalConnections: number;
  /** Every ack received, in order. */
  readonly acks: SocketAck[];
  /** Resolves once a client is connected (immediately if one is). */
  waitForConnection(timeoutMs?: number): Promise<void>;
  /** Resolves once no client is connected (immediately if none is). */
  waitForDisconnection(timeoutMs?: number): Promise<void>;
  /** Deliver a slash command envelope (payload = the fields Slack sends, defaults filled); resolves with the ack. */
  sendSlashCommand(fields: SlashCommandFields, opts?: SocketEnvelopeOptions): Promise<SocketAck>;
  /** Deliver a block_actions envelope (type `interactive`); accepts a full payload or the input to build one. */
  sendBlockAction(payload: BlockActionInput | Record<string, any>, opts?: SocketEnvelopeOptions): Promise<SocketAck>;
  /** Deliver any envelope type (`events_api`, `interactive`, `slash_commands`). */
  sendEnvelope(type: string, payload: any, opts?: SocketEnvelopeOptions): Promise<SocketAck>;
  /** Send `{type:'disconnect', reason}` to every connection, as Slack does before rotating a connection. */
  requestRefresh(reason?: string): void;
  /** Close every connection and stop accepting new ones. */
  close(): Promise<void>;
}

export interface SocketModeContext {
  appId: string;
  /** Tickets handed out by apps.connections.open; an upgrade must present one. */
  tickets: Set<string>;
}

interface Pending {
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

export const SOCKET_PATH = '/socket';

export function attachSocketMode(server: Server, ctx: SocketModeContext): SocketModeEmulator {
  const wss = new WebSocketServer({ noServer: true });
  const open = new Set<WebSocket>();
  const pending = new Map<string, Pending>();
  const acks: SocketAck[] = [];
  let total = 0;
  let closed = false;
  const changeListeners = new Set<() => void>();
  const notifyChange = (): void => {
    for (const l of [...changeListeners]) l();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== SOCKET_PATH || closed) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const ticket = url.searchParams.get('ticket');
    if (ticket === null || !ctx.tickets.has(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  };
  server.on('upgrade', onUpgrade);

  function onConnection(ws: WebSocket): void {
    total += 1;
    open.add(ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: any;
      try {
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- ws hands text frames over as a Buffer
        msg = JSON.parse(data.toString());
      } catch {
        return;
      }
      const id = msg?.envelope_id;
      if (typeof id !== 'string') return;
      const p = pending.get(id);
      const ack: SocketAck = { envelope_id: id, payload: msg.payload, ms: p ? performance.now() - p.sentAt : 0 };
      acks.push(ack);
      if (p) {
        pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(ack);
      }
    });
    ws.on('close', () => {
      open.delete(ws);
      notifyChange();
    });
    ws.on('error', () => {
      open.delete(ws);
      notifyChange();
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open.size,
        debug_info: { host: 'applink-emulated-1', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: ctx.appId },
      }),
    );
    notifyChange();
  }

  function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        if (!cond()) return;
        changeListeners.delete(listener);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        changeListeners.delete(listener);
        reject(new Error(`Socket Mode emulator: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      changeListeners.add(listener);
    });
  }

  function sendEnvelope(type: string, payload: any, opts: SocketEnvelopeOptions = {}): Promise<SocketAck> {
    // Slack picks one of the open connections; the newest is a deterministic choice.
    const ws = [...open].filter((w) => w.readyState === WebSocket.OPEN).pop();
    if (!ws) return Promise.reject(new Error(`Socket Mode emulator: no client connected to deliver ${type}`));
    const envelopeId = randomUUID();
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(envelopeId);
        reject(new Error(`Socket Mode emulator: no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(envelopeId, { resolve, reject, timer, sentAt: performance.now() });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          payload,
          type,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: opts.retryAttempt ?? 0,
          retry_reason: opts.retryReason ?? '',
        }),
        (err) => {
          if (!err) return;
          const p = pending.get(envelopeId);
          if (!p) return;
          pending.delete(envelopeId);
          clearTimeout(p.timer);
          p.reject(err);
        },
      );
    });
  }

  return {
    get connections() {
      return open.size;
    },
    get totalConnections() {
      return total;
    },
    acks,
    waitForConnection(timeoutMs = 5000) {
      return waitUntil(() => open.size > 0, timeoutMs, 'a Socket Mode connection');
    },
    waitForDisconnection(timeoutMs = 5000) {
      return waitUntil(() => open.size === 0, timeoutMs, 'all Socket Mode connections to close');
    },
    sendSlashCommand(fields, opts) {
      return sendEnvelope('slash_commands', slashCommandBody(fields), opts);
    },
    sendBlockAction(payload, opts) {
      return sendEnvelope('interactive', toBlockActionPayload(payload), opts);
    },
    sendEnvelope,
    requestRefresh(reason = 'refresh_requested') {
      const msg = JSON.stringify({
        type: 'disconnect',
        reason,
        debug_info: { host: 'applink-emulated-1' },
      });
      for (const ws of open) ws.send(msg);
    },
    async close() {
      closed = true;
      server.off('upgrade', onUpgrade);
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`Socket Mode emulator closed before envelope ${id} was acked`));
      }
      pending.clear();
      // Close politely (1001 going away), then cut whatever has not finished the handshake.
      await Promise.all(
        [...open].map(
          (ws) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                ws.terminate();
                resolve();
              }, 500);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              ws.close(1001, 'emulator closing');
            }),
        ),
      );
      open.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      notifyChange();
    },
  };
}
