/** HTTP plumbing of the emulated apiserver: JSON and text replies, errors as Status, request bodies, followed log streams. */
import type http from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { LogFollower } from './pod-runs.js';
import { ApiError, badRequest, unsupportedMediaType } from './status.js';

export function send(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A chunked text stream that stays open, as the apiserver proxies the kubelet's followed log. */
export function followLogs(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  q: URLSearchParams,
  follow: (follower: LogFollower) => { text: string; unfollow(): void },
): void {
  const limit = Number(q.get('limitBytes') ?? 0);
  let sent = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    following.unfollow();
    res.end();
  };
  const write = (text: string) => {
    if (ended || !text) return;
    let chunk = Buffer.from(text);
    if (limit > 0 && sent + chunk.length >= limit) chunk = chunk.subarray(0, limit - sent);
    sent += chunk.length;
    res.write(chunk);
    if (limit > 0 && sent >= limit) end();
  };
  const following = follow({ write, end });
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  req.on('close', end);
  res.on('close', end);
  write(following.text);
}

export function sendText(res: http.ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof ApiError) {
    send(res, err.code, err.toStatus());
    return;
  }
  console.error('kube emulator: internal error', err);
  send(res, 500, new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`).toStatus());
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseBody(contentType: string | undefined, raw: string): any {
  const ct = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/json' && ct !== 'application/yaml' && ct !== '*/*' && ct !== '') {
    throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/cbor']);
  }
  try {
    return ct === 'application/yaml' ? parseYaml(raw) : JSON.parse(raw);
  } catch (err) {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${ct}): couldn't get version/kind; json parse error: ${(err as Error).message}`,
    );
  }
}

/** The apiserver's prefixFromUserAgent: the User-Agent up to the first '/', printable characters, at most 128. */
export function managerFromUserAgent(ua: string | undefined): string {
  return [...(ua ?? '').split('/')[0]!]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .slice(0, 128);
}
