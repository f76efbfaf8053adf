/** WATCH: initial ADDED events or a replay from a resourceVersion (410 once compacted), selector transitions, bookmarks, timeouts. */
import type http from 'node:http';
import type { ResourceDef } from './resources.js';
import { makeObjectFilter } from './selectors.js';
import { badRequest, expired } from './status.js';
import { eventLine, type Store, type StoreEvent } from './store.js';

interface Watcher {
  res: ResourceDef;
  ns: string | undefined;
  filter: ((o: any) => boolean) | undefined;
  out: http.ServerResponse;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

export class WatchHub {
  private readonly watchers = new Map<ResourceDef, Set<Watcher>>();
  bookmarkIntervalMs = 1000;

  constructor(private readonly store: Store) {}

  /** End every watch: `abrupt` destroys the connections (as a dying apiserver does), else each stream ends cleanly. */
  dropAll(abrupt = false): void {
    for (const set of this.watchers.values()) {
      for (const w of set) this.endWatch(w, abrupt);
    }
  }

  count(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  watch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: ResourceDef,
    ns: string | undefined,
    name: string | undefined,
    q: URLSearchParams,
  ): void {
    let fieldSelector = q.get('fieldSelector') ?? '';
    if (name !== undefined) fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`;
    const filter = makeObjectFilter(q.get('labelSelector'), fieldSelector);
    const rvParam = q.get('resourceVersion') ?? '';
    const sendInitial = q.get('sendInitialEvents') === 'true';
    let replay: StoreEvent[] | 'expired' | undefined;
    if (rvParam !== '' && rvParam !== '0' && !sendInitial) {
      const rv = Number(rvParam);
      if (!Number.isFinite(rv)) throw badRequest(`invalid resource version: ${rvParam}`);
      replay = this.store.eventsSince(rv);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // clients (client-node's Watch) wait for the headers before returning: send them now
    res.flushHeaders();
    if (replay === 'expired') {
      const status = expired(rvParam, this.store.compactedRV).toStatus();
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    const w: Watcher = { res: r, ns, filter, out: res, timers: [], closed: false };
    let buf = '';
    const flush = (): void => {
      if (buf) res.write(buf);
      buf = '';
    };
    if (replay === undefined) {
      for (const o of this.store.list(r, ns)) {
        if (filter && !filter(o)) continue;
        buf += `{"type":"ADDED","object":${JSON.stringify(o)}}\n`;
        if (buf.length > 65536) flush();
      }
      if (sendInitial) {
        buf += `${JSON.stringify({ type: 'BOOKMARK', object: this.bookmarkObject(r, { 'k8s.io/initial-events-end': 'true' }) })}\n`;
      }
    } else {
      for (const ev of replay) {
        if (ev.res !== r) continue;
        const line = this.lineFor(w, ev);
        if (line) buf += line;
        if (buf.length > 65536) flush();
      }
    }
    flush();
    let set = this.watchers.get(r);
    if (!set) this.watchers.set(r, (set = new Set()));
    set.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) w.timers.push(setTimeout(() => this.endWatch(w, false), timeout * 1000));
    if (q.get('allowWatchBookmarks') === 'true') {
      w.timers.push(
        setInterval(() => {
          if (!w.closed) res.write(`${JSON.stringify({ type: 'BOOKMARK', object: this.bookmarkObject(r) })}\n`);
        }, this.bookmarkIntervalMs),
      );
    }
    const onClose = (): void => this.endWatch(w, false);
    req.on('close', onClose);
    res.on('close', onClose);
  }

  private bookmarkObject(r: ResourceDef, annotations?: Record<string, string>): object {
    return {
      kind: r.kind,
      apiVersion: r.apiVersion,
      metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations ? { annotations } : {}) },
    };
  }

  private endWatch(w: Watcher, abrupt: boolean): void {
    if (w.closed) return;
    w.closed = true;
    for (const t of w.timers) clearTimeout(t);
    this.watchers.get(w.res)?.delete(w);
    if (abrupt) w.out.destroy();
    else w.out.end();
  }

  /** The line a watcher should get for an event, honouring selector transitions (or undefined). */
  private lineFor(w: Watcher, ev: StoreEvent): string | undefined {
    const o = ev.obj;
    if (w.ns !== undefined && o.metadata?.namespace !== w.ns) return undefined;
    if (!w.filter) return eventLine(ev);
    const now = ev.type !== 'DELETED' && w.filter(o);
    const before = ev.prev !== undefined && w.filter(ev.prev);
    let type: string | undefined;
    if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else if (ev.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    if (!type) return undefined;
    if (type === ev.type) return eventLine(ev);
    return `{"type":"${type}","object":${JSON.stringify(o)}}\n`;
  }

  dispatch(ev: StoreEvent): void {
    const set = this.watchers.get(ev.res);
    if (!set || set.size === 0) return;
    for (const w of set) {
      if (w.closed) continue;
      const line = this.lineFor(w, ev);
      if (line) w.out.write(line);
    }
  }
}
