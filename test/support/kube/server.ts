/** HTTP: routing, discovery, CRUD, patch, watch, logs, access checks (the pieces in access, http-io, list, watch). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessReview, isDenied, USER, type AccessAttributes, type DenyRule } from './access.js';
import { checkDryRunValues, parseDeleteOptions } from './delete-options.js';
import { evict } from './eviction.js';
import { followLogs, managerFromUserAgent, parseBody, readBody, send, sendError, sendText } from './http-io.js';
import { listBody } from './list.js';
import { openapiDocument } from './openapi.js';
import { parseFieldValidation } from './unknown-fields.js';
import { createObject, deleteObject, patchObject, replaceObject } from './operations.js';
import { PATCH_TYPES } from './patch.js';
import type { LogFollower } from './pod-runs.js';
import { discoveryApiGroup, discoveryApiGroupList, discoveryApiVersions, discoveryResourceList, resourceByPath } from './resources.js';
import { METRICS_GROUP, type MetricsModel } from './metrics.js';
import { makeObjectFilter } from './selectors.js';
import { patchScale, setScale, toScale } from './scale.js';
import { ApiError, forbidden, methodNotAllowed, notFound, successStatus } from './status.js';
import type { Store } from './store.js';
import { toTable, wantsTable } from './table.js';
import { WatchHub } from './watch.js';

export type { AccessAttributes, DenyRule } from './access.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  at: number;
}

/**
 * A test's hook on requests that match: 'before' runs once the request is read, before it is handled (an async run holds
 * it meanwhile; 'drop' from run: it is never handled and its connection is cut, as when its client dies before sending it);
 * 'after' runs once it is handled (applied, unless refused) and before its answer is sent.
 */
export interface RequestHook {
  match(r: RecordedRequest): boolean;
  when: 'before' | 'after';
  run(r: RecordedRequest): 'drop' | undefined | Promise<'drop' | undefined>;
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

export class KubeServer {
  readonly requests: RecordedRequest[] = [];
  readonly denies: DenyRule[] = [];
  readonly requestHooks = new Set<RequestHook>();
  private readonly server: http.Server;
  private readonly watches: WatchHub;
  private unsubscribe: () => void;
  url = '';

  constructor(
    private readonly store: Store,
    private readonly hooks: ServerHooks,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => sendError(res, err));
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('upgrade', (req, socket, head) => {
      if (!this.hooks.upgrade?.(req, socket, head)) socket.destroy();
    });
    this.watches = new WatchHub(store);
    this.unsubscribe = store.onChange((ev) => this.watches.dispatch(ev));
  }

  get bookmarkIntervalMs(): number {
    return this.watches.bookmarkIntervalMs;
  }

  set bookmarkIntervalMs(ms: number) {
    this.watches.bookmarkIntervalMs = ms;
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
    this.watches.dropAll(abrupt);
  }

  watcherCount(): number {
    return this.watches.count();
  }

  isDenied(a: AccessAttributes): boolean {
    return isDenied(this.denies, a);
  }

  /** The hooks on this request: false when one drops it; 'after' hooks hold its answer until they are done. */
  private async runHooks(r: RecordedRequest, res: http.ServerResponse): Promise<boolean> {
    const hooks = [...this.requestHooks].filter((h) => h.match(r));
    for (const h of hooks) if (h.when === 'before' && (await h.run(r)) === 'drop') return false;
    const after = hooks.filter((h) => h.when === 'after');
    if (after.length) {
      const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
      res.end = ((...args: unknown[]) => {
        void (async () => {
          for (const h of after) await h.run(r);
        })().finally(() => end(...args));
        return res;
      }) as typeof res.end;
    }
    return true;
  }

  // ------------------------------------------------------------------ routing

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const contentType = req.headers['content-type'];
    const recorded = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), contentType, at: Date.now() };
    this.requests.push(recorded);
    const raw = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE' ? await readBody(req) : '';
    if (!(await this.runHooks(recorded, res))) {
      req.socket.destroy();
      return;
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;

    if (method === 'GET') {
      switch (path) {
        case '/version':
          return send(res, 200, {
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
          return sendText(res, 200, 'ok');
        case '/api':
          return send(res, 200, discoveryApiVersions(this.url.replace(/^https?:\/\//, '')));
        case '/apis': {
          const list = discoveryApiGroupList() as { groups: object[] };
          const metrics = this.hooks.metrics?.apiGroup();
          return send(res, 200, metrics ? { ...list, groups: [...list.groups, metrics] } : list);
        }
      }
      if (path.startsWith('/openapi/')) {
        const doc = openapiDocument(path);
        if (doc) return send(res, 200, doc);
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
    }

    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs[0] === 'apis' && segs[1] === METRICS_GROUP && this.hooks.metrics) {
      return send(
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
        if (g && method === 'GET') return send(res, 200, g);
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      apiVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      const list = discoveryResourceList(apiVersion);
      if (list && method === 'GET') return send(res, 200, list);
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
      return send(res, 201, accessReview(this.denies, parseBody(contentType, raw)));
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
        if (watching) return this.watches.watch(req, res, r, ns, name, q);
        if (name === undefined) return send(res, 200, listBody(this.store, r, ns, q, req.headers.accept));
        const obj = this.store.get(r, ns, name);
        if (!obj) throw notFound(r, name);
        if (sub === 'log' && q.get('follow') === 'true') return followLogs(req, res, q, (f) => this.hooks.followPodLogs(obj, q, f));
        if (sub === 'log') return sendText(res, 200, this.hooks.podLogs(obj, q));
        if (sub === 'scale') return send(res, 200, toScale(obj));
        if (wantsTable(req.headers.accept)) {
          return send(res, 200, toTable(r, { metadata: { resourceVersion: obj.metadata.resourceVersion }, items: [obj] }));
        }
        return send(res, 200, obj);
      }
      case 'POST': {
        if (sub === 'eviction' && name !== undefined && ns !== undefined)
          return send(res, 201, evict(this.store, ns, name, parseBody(contentType, raw), dryRun));
        if (name !== undefined) throw methodNotAllowed();
        const body = parseBody(contentType, raw);
        const created = createObject(this.store, r, body, ns, {
          fromClient: true,
          dryRun,
          fieldManager: manager,
          fieldValidation,
          warnings,
        });
        warn();
        return send(res, 201, created);
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed();
        const body = parseBody(contentType, raw);
        if (sub === 'scale')
          return send(
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
        return send(res, 200, updated);
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed();
        const force = q.has('force') ? q.get('force') === 'true' : undefined;
        if (sub === 'scale')
          return send(
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
        return send(res, created ? 201 : 200, obj);
      }
      case 'DELETE': {
        const options = parseDeleteOptions(q, raw);
        if (name === undefined) {
          const filter = makeObjectFilter(q.get('labelSelector'), q.get('fieldSelector'));
          const items = this.store.list(r, ns).filter((o) => !filter || filter(o));
          for (const o of items) deleteObject(this.store, r, o.metadata.namespace, o.metadata.name, options);
          return send(res, 200, {
            kind: r.listKind,
            apiVersion: r.apiVersion,
            metadata: { resourceVersion: String(this.store.resourceVersion) },
            items,
          });
        }
        const deleted = deleteObject(this.store, r, ns, name, options);
        if (r.kind === 'Pod' || r.kind === 'Namespace') {
          if (r.kind === 'Namespace') return send(res, 200, { ...deleted, status: { ...(deleted.status ?? {}), phase: 'Terminating' } });
          return send(res, 200, deleted);
        }
        return send(res, 200, successStatus(r, name, deleted.metadata?.uid));
      }
    }
  }
}
