/** LIST: selectors, pages (limit/continue) and Tables. */
import type { ResourceDef } from './resources.js';
import { makeObjectFilter } from './selectors.js';
import { badRequest } from './status.js';
import type { Store } from './store.js';
import { toTable, wantsTable } from './table.js';

/** A list with label/field selectors and limit/continue pages, as a Table when the client asks for one. */
export function listBody(store: Store, r: ResourceDef, ns: string | undefined, q: URLSearchParams, accept: string | undefined): object {
  const filter = makeObjectFilter(q.get('labelSelector'), q.get('fieldSelector'));
  let items = store.list(r, ns);
  if (filter) items = items.filter(filter);
  const rv = String(store.resourceVersion);
  const limit = Number(q.get('limit') ?? 0);
  const cont = q.get('continue');
  const meta: Record<string, unknown> = { resourceVersion: rv };
  if (limit > 0 || cont) {
    items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    let start = 0;
    if (cont) {
      try {
        const tok = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { start: string; rv: string };
        start = items.findIndex((o) => keyOf(o) > tok.start);
        if (start < 0) start = items.length;
        meta.resourceVersion = tok.rv;
      } catch {
        throw badRequest('invalid continue token');
      }
    }
    const end = limit > 0 ? Math.min(items.length, start + limit) : items.length;
    const page = items.slice(start, end);
    if (end < items.length) {
      meta.continue = Buffer.from(JSON.stringify({ start: keyOf(page[page.length - 1]), rv: meta.resourceVersion })).toString('base64');
      meta.remainingItemCount = items.length - end;
    }
    items = page;
  }
  const list = { kind: r.listKind, apiVersion: r.apiVersion, metadata: meta, items };
  return wantsTable(accept) ? toTable(r, list) : list;
}

function keyOf(o: any): string {
  return `${o?.metadata?.namespace ?? ''}/${o?.metadata?.name ?? ''}`;
}
