/** HTTP: routing, discovery, CRUD, patch, watch, logs, access checks. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { checkDryRunValues, parseDeleteOptions } from './delete-options.js';
import { evict } from './eviction.js';
import { openapiDocument } from './openapi.js';
import { parseFieldValidation } from './unknown-fields.js';
import { createObject, deleteObject, patchObject, replaceObject } from './operations.js';
import { PATCH_TYPES } from './patch.js';
import {
  discoveryApiGroup,
  discoveryApiGroupList,
  discoveryApiVersions,
  discoveryResourceList,
  resourceByPath,
  type ResourceDef,
} from './resources.js';
import { METRICS_GROUP, type MetricsModel } from './metrics.js';
import { makeObjectFilter } from './selectors.js';
import { patchScale, setScale, toScale } from './scale.js';
import { ApiError, badRequest, expired, forbidden, methodNotAllowed, notFound, successStatus, unsupportedMediaType } from './status.js';
import { eventLine, Store, type StoreEvent } from './store.js';
import { toTable, wantsTable } from './table.js';
import type { LogFollower } from './kubelet.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  at: number;
}

export interface DenyRule {
  verb: string;
  resource: string;
  namespace?: string;
  subresource?: string;
  group?: string;
  name?: string;
}

export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ServerHooks {
  /** log text for a pod container; throws ApiError for the kubelet's refusals */
  podLogs(pod: any, query: URLSearchParams): string;
  followPodLogs(pod: any, query: URLSearchParams, follower: LogFollower): { text: string; unfollow(): void };
  /** WebSocket upgrades (pods/exec); false when the path is not one */
  upgrade?(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean;
  /** metrics.k8s.io (an aggregated API: served apart from the stored resources). */
  metrics?: MetricsModel;
}

interface Watcher {
  res: ResourceDef;
  ns: string | undefined;
  filter: ((o: any) => boolean) | undefined;
  out: http.ServerResponse;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

const USER = 'emulator-user';

export class KubeServer {
  readonly requests: RecordedRequest[] = [];
  readonly denies: DenyRule[] = [];
  private readonly server: http.Server;
  private readonly watchers = new Map<ResourceDef, Set<Watcher>>();
  private unsubscribe: () => void;
  url = '';
  bookmarkIntervalMs = 1000;

  constructor(
    private readonly store: Store,
    private readonly hooks: ServerHooks,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.sendError(res, err));
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('upgrade', (req, socket, head) => {
      if (!this.hooks.upgrade?.(req, socket, head)) socket.destroy();
    });
    this.unsubscribe = store.onChange((ev) => this.dispatch(ev));
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.dropWatches(true);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  dropWatches(abrupt = false): void {
    for (const set of this.watchers.values()) {
      for (const w of set) this.endWatch(w, abrupt);
    }
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  isDenied(a: AccessAttributes): boolean {
    for (const r of this.denies) {
      let resource = r.resource;
      let sub = r.subresource;
      if (resource.includes('/') && sub === undefined) [resource, sub] = resource.split('/', 2) as [string, string];
      if (r.verb !== '*' && r.verb !== a.verb) continue;
      if (resource !== '*' && resource !== a.resource) continue;
      if (sub !== '*' && (sub ?? '') !== (a.subresource ?? '')) continue;
      if (r.namespace !== undefined && r.namespace !== a.namespace) continue;
      if (r.group !== undefined && r.group !== '*' && r.group !== a.group) continue;
      if (r.name !== undefined && r.name !== a.name) continue;
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ plumbing

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** A chunked text stream that stays open, as the apiserver proxies the kubelet's followed log. */
  private followLogs(req: http.IncomingMessage, res: http.ServerResponse, pod: any, q: URLSearchParams): void {
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
    const following = this.hooks.followPodLogs(pod, q, { write, end });
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    req.on('close', end);
    res.on('close', end);
    write(following.text);
  }

  private sendText(res: http.ServerResponse, code: number, text: string): void {
    res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) {
      this.send(res, err.code, err.toStatus());
      return;
    }
    console.error('kube emulator: internal error', err);
    this.send(
      res,
      500,
      new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`).toStatus(),
    );
  }

  private readBody(req: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  private parseBody(contentType: string | undefined, raw: string): any {
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

  // ------------------------------------------------------------------ routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const contentType = req.headers['content-type'];
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), contentType, at: Date.now() });
    const raw = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE' ? await this.readBody(req) : '';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;

    if (method === 'GET') {
      switch (path) {
        case '/version':
          return this.send(res, 200, {
            major: '1',
            minor: '31',
            gitVersion: 'v1.31.0-emulator',
            gitCommit: '0000000000000000000000000000000000000000',
            gitTreeState: 'clean',
            buildDate: '2024-08-13T00:00:00Z',
            goVersion: 'go1.22.5',
            compiler: 'gc',
            platform: 'linux/amd64',
          });
        case '/healthz':
        case '/livez':
        case '/readyz':
          return this.sendText(res, 200, 'ok');
        case '/api':
          return this.send(res, 200, discoveryApiVersions(this.url.replace(/^https?:\/\//, '')));
        case '/apis': {
          const list = discoveryApiGroupList() as { groups: object[] };
          const metrics = this.hooks.metrics?.apiGroup();
          return this.send(res, 200, metrics ? { ...list, groups: [...list.groups, metrics] } : list);
        }
      }
      if (path.startsWith('/openapi/')) {
        const doc = openapiDocument(path);
        if (doc) return this.send(res, 200, doc);
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
    }

    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs[0] === 'apis' && segs[1] === METRICS_GROUP && this.hooks.metrics) {
      return this.send(
        res,
        200,
        this.hooks.metrics.handle(method, segs.slice(2), q, {
          isDenied: (a) => this.isDenied(a),
          forbidden: (resource, verb, namespace, name) =>
            forbidden({ plural: resource, group: METRICS_GROUP }, name, USER, verb, resource, namespace),
        }),
      );
    }
    let apiVersion: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      apiVersion = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 2) {
      if (segs.length === 2) {
        const g = discoveryApiGroup(segs[1]!);
        if (g && method === 'GET') return this.send(res, 200, g);
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      apiVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      const list = discoveryResourceList(apiVersion);
      if (list && method === 'GET') return this.send(res, 200, list);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    // legacy /watch/ prefix
    let forceWatch = false;
    if (rest[0] === 'watch') {
      forceWatch = true;
      rest = rest.slice(1);
    }
    let ns: string | undefined;
    let plural: string;
    let name: string | undefined;
    let sub: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      ns = rest[1];
      [plural, name, sub] = [rest[2]!, rest[3], rest[4]];
      if (rest.length > 5) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    } else {
      [plural, name, sub] = [rest[0]!, rest[1], rest[2]];
      if (rest.length > 3) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const r = resourceByPath(apiVersion, plural);
    if (!r || (ns !== undefined && !r.namespaced)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (sub !== undefined && !r.subresources.includes(sub))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const watching = forceWatch || (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1'));

    // verb for access checks
    let verb: string;
    switch (method) {
      case 'GET':
        verb = watching ? 'watch' : name === undefined ? 'list' : 'get';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name === undefined ? 'deletecollection' : 'delete';
        break;
      default:
        throw methodNotAllowed();
    }
    if (this.isDenied({ verb, group: r.group, resource: r.plural, subresource: sub, namespace: ns, name })) {
      throw forbidden(r, name, USER, verb, sub ? `${r.plural}/${sub}` : r.plural, ns);
    }

    if (sub === 'eviction' && method !== 'POST') throw methodNotAllowed();
    if (r.virtual) {
      if (method !== 'POST' || name !== undefined) throw methodNotAllowed();
      return this.accessReview(res, this.parseBody(contentType, raw));
    }

    // The apiserver validates the write's options first: dryRun takes only "All" (ValidateDryRun → 422 Invalid).
    if (method !== 'GET') checkDryRunValues(method, q.getAll('dryRun'));
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldManager = q.get('fieldManager') ?? undefined;
    // without ?fieldManager the apiserver names the manager after the User-Agent (apply requires one)
    const manager = fieldManager ?? managerFromUserAgent(req.headers['user-agent']);
    const fieldValidation = method === 'GET' || method === 'DELETE' ? 'Warn' : parseFieldValidation(q.get('fieldValidation'));
    const warnings: string[] = [];
    // the apiserver's Warning headers (kubectl prints them as "Warning: ...")
    const warn = (): void => {
      if (warnings.length)
        res.setHeader(
          'Warning',
          warnings.map((w) => `299 - ${JSON.stringify(w)}`),
        );
    };
    switch (method) {
      case 'GET': {
        if (watching) return this.watch(req, res, r, ns, name, q);
        if (name === undefined) return this.list(req, res, r, ns, q);
        const obj = this.store.get(r, ns, name);
        if (!obj) throw notFound(r, name);
        if (sub === 'log' && q.get('follow') === 'true') return this.followLogs(req, res, obj, q);
        if (sub === 'log') return this.sendText(res, 200, this.hooks.podLogs(obj, q));
        if (sub === 'scale') return this.send(res, 200, toScale(obj));
        if (wantsTable(req.headers.accept)) {
          return this.send(res, 200, toTable(r, { metadata: { resourceVersion: obj.metadata.resourceVersion }, items: [obj] }));
        }
        return this.send(res, 200, obj);
      }
      case 'POST': {
        if (sub === 'eviction' && name !== undefined && ns !== undefined)
          return this.send(res, 201, evict(this.store, ns, name, this.parseBody(contentType, raw), dryRun));
        if (name !== undefined) throw methodNotAllowed();
        const body = this.parseBody(contentType, raw);
        const created = createObject(this.store, r, body, ns, {
          fromClient: true,
          dryRun,
          fieldManager: manager,
          fieldValidation,
          warnings,
        });
        warn();
        return this.send(res, 201, created);
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed();
        const body = this.parseBody(contentType, raw);
        if (sub === 'scale')
          return this.send(
            res,
            200,
            toScale(setScale(this.store, r, ns, name, body?.spec?.replicas, body?.metadata?.resourceVersion, dryRun, manager)),
          );
        const updated = replaceObject(this.store, r, ns, name, body, {
          fromClient: true,
          dryRun,
          fieldManager: manager,
          subresource: sub,
          fieldValidation,
          warnings,
        });
        warn();
        return this.send(res, 200, updated);
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed();
        const force = q.has('force') ? q.get('force') === 'true' : undefined;
        if (sub === 'scale')
          return this.send(
            res,
            200,
            toScale(patchScale(this.store, r, ns, name, contentType ?? '', raw, { force, fieldManager, manager, dryRun })),
          );
        const isApply = (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PATCH_TYPES.apply;
        const [obj, created] = patchObject(this.store, r, ns, name, contentType ?? '', raw, {
          fromClient: true,
          dryRun,
          fieldManager: isApply ? fieldManager : manager,
          force,
          subresource: sub,
          fieldValidation,
          warnings,
        });
        warn();
        return this.send(res, created ? 201 : 200, obj);
      }
      case 'DELETE': {
        const options = parseDeleteOptions(q, raw);
        if (name === undefined) {
          const filter = makeObjectFilter(q.get('labelSelector'), q.get('fieldSelector'));
          const items = this.store.list(r, ns).filter((o) => !filter || filter(o));
          for (const o of items) deleteObject(this.store, r, o.metadata.namespace, o.metadata.name, options);
          return this.send(res, 200, {
            kind: r.listKind,
            apiVersion: r.apiVersion,
            metadata: { resourceVersion: String(this.store.resourceVersion) },
            items,
          });
        }
        const deleted = deleteObject(this.store, r, ns, name, options);
        if (r.kind === 'Pod' || r.kind === 'Namespace') {
          if (r.kind === 'Namespace')
            return this.send(res, 200, { ...deleted, status: { ...(deleted.status ?? {}), phase: 'Terminating' } });
          return this.send(res, 200, deleted);
        }
        return this.send(res, 200, successStatus(r, name, deleted.metadata?.uid));
      }
    }
  }

  private accessReview(res: http.ServerResponse, body: any): void {
    const ra = body?.spec?.resourceAttributes;
    let allowed = true;
    if (ra) {
      allowed = !this.isDenied({
        verb: ra.verb ?? '',
        group: ra.group ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource || undefined,
        namespace: ra.namespace || undefined,
        name: ra.name || undefined,
      });
    }
    this.send(res, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: body?.spec ?? {},
      status: allowed
        ? { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "emulator" of ClusterRole "cluster-admin" to User "${USER}"` }
        : { allowed: false },
    });
  }

  // ------------------------------------------------------------------ list

  private list(req: http.IncomingMessage, res: http.ServerResponse, r: ResourceDef, ns: string | undefined, q: URLSearchParams): void {
    const filter = makeObjectFilter(q.get('labelSelector'), q.get('fieldSelector'));
    let items = this.store.list(r, ns);
    if (filter) items = items.filter(filter);
    const rv = String(this.store.resourceVersion);
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
    if (wantsTable(req.headers.accept)) return this.send(res, 200, toTable(r, list));
    this.send(res, 200, list);
  }

  // ------------------------------------------------------------------ watch

  private watch(
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

  private dispatch(ev: StoreEvent): void {
    const set = this.watchers.get(ev.res);
    if (!set || set.size === 0) return;
    for (const w of set) {
      if (w.closed) continue;
      const line = this.lineFor(w, ev);
      if (line) w.out.write(line);
    }
  }
}

/** The apiserver's prefixFromUserAgent: the User-Agent up to the first '/', printable characters, at most 128. */
function managerFromUserAgent(ua: string | undefined): string {
  return [...(ua ?? '').split('/')[0]!]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .slice(0, 128);
}

function keyOf(o: any): string {
  return `${o?.metadata?.namespace ?? ''}/${o?.metadata?.name ?? ''}`;
}
