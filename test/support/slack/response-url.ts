/** response_url: the per-interaction URL a slash command or button hands out. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { contentType, ok, readBody, send, Waitable } from './http.js';
import type { Workspace } from './state.js';
import type { ResponseUrlPost } from './types.js';

const MAX_RESPONSE_URL_POSTS = 5;

export class ResponseUrls {
  readonly posts = new Waitable<ResponseUrlPost>();
  private counts = new Map<string, number>();

  constructor(private readonly ws: Workspace) {}

  newUrl(): string {
    return `${this.ws.origin}/response/${randomBytes(8).toString('hex')}`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    const text = raw.toString('utf8');
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      if (contentType(req) === 'application/x-www-form-urlencoded') {
        const q = parseQuery(text);
        body = typeof q['payload'] === 'string' ? JSON.parse(q['payload']) : q;
      }
    }
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n > MAX_RESPONSE_URL_POSTS) {
      send(res, { status: 404, body: { ok: false, error: 'used_url' } });
      return;
    }
    this.posts.push({ id, body, at: this.ws.now() });
    send(res, ok());
  }

  reset(): void {
    this.posts.clear();
    this.counts.clear();
  }
}
