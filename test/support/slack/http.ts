/** HTTP plumbing shared by the emulator's API families: body parsing, answers, waiting on recorded traffic. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';

/** Form fields that WebClient JSON-encodes and that are parsed back into objects in `SlackCall.args`. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata', 'user_auth_blocks', 'view', 'unfurls', 'file_uploads']);

export interface Answer {
  status: number;
  body: any;
  headers?: Record<string, string>;
  rateLimited?: boolean;
}

export type Handler = (args: Record<string, any>, token: string | undefined) => Answer;

export const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { ok: true, ...body } });
export const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
});
export const rateLimited = (retryAfter: number, error = 'ratelimited'): Answer => ({
  status: 429,
  body: { ok: false, error },
  headers: { 'retry-after': String(retryAfter) },
  rateLimited: true,
});

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export class Waitable<T> {
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

export function readBody(req: IncomingMessage): Promise<Buffer> {
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

export function contentType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export async function parseArgs(req: IncomingMessage, raw: Buffer, query: URLSearchParams): Promise<Record<string, any>> {
  const args: Record<string, any> = {};
  for (const [k, v] of query) args[k] = parseFormValue(k, v);
  const type = contentType(req);
  if (raw.length === 0) return args;
  if (type === 'application/json') {
    Object.assign(args, JSON.parse(raw.toString('utf8')));
  } else if (type === 'multipart/form-data') {
    const form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type']! },
      body: raw,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- fine for an emulator's small test uploads
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

export function send(res: ServerResponse, a: Answer): void {
  const body = JSON.stringify(a.body);
  res.writeHead(a.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(a.headers ?? {}),
  });
  res.end(body);
}
