/** response_url: the per-interaction URL a slash command or button hands out. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { refuseMessage } from './block-kit-rules.js';
import { contentType, ok, readBody, send, Waitable } from './http.js';
import type { Workspace } from './state.js';
import type { ResponseUrlPost } from './types.js';

const MAX_RESPONSE_URL_POSTS = 5;
/** A response_url works for 30 minutes after the interaction. */
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

export class ResponseUrls {
  readonly posts = new Waitable<ResponseUrlPost>();
  private counts = new Map<string, number>();
  /** When each URL was handed out, by id. */
  private issued = new Map<string, number>();

  constructor(private readonly ws: Workspace) {}

  newUrl(): string {
    const id = randomBytes(8).toString('hex');
    this.issued.set(id, this.ws.now());
    return `${this.ws.origin}/response/${id}`;
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
    const issuedAt = this.issued.get(id);
    if (issuedAt === undefined) {
      send(res, { status: 404, body: { ok: false, error: 'invalid_url' } });
      return;
    }
    if (this.ws.now() - issuedAt > RESPONSE_URL_TTL_MS) {
      send(res, { status: 404, body: { ok: false, error: 'expired_url' } });
      return;
    }
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n > MAX_RESPONSE_URL_POSTS) {
      send(res, { status: 404, body: { ok: false, error: 'used_url' } });
      return;
    }
    const refused = typeof body === 'object' && body !== null ? refuseMessage(body) : undefined;
    if (refused) {
      send(res, { status: 400, body: { ok: false, error: refused.error, ...(refused.errors ? { errors: refused.errors } : {}) } });
      return;
    }
    this.posts.push({ id, body, at: this.ws.now() });
    send(res, ok());
  }

  reset(): void {
    this.posts.clear();
    this.counts.clear();
    this.issued.clear();
  }
}
