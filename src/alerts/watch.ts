/**
 * A client-node informer (ListWatch) whose lifecycle we own. ListWatch lists,
 * then watches from the list's resourceVersion; on 410 Gone it re-lists by
 * itself (its cache diff turns into add/update/delete callbacks, so nothing is
 * missed and an unchanged object is not reported again). On any other error it
 * emits `error` and stops: we restart it with capped exponential backoff.
 * Objects are slimmed before they are cached, so a large cluster stays cheap.
 */
import http from 'node:http';
import https from 'node:https';
import { ApiException, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { watchRestartsTotal } from '../server/metrics.js';

/** 250 ms, 500 ms, 1 s … capped at 30 s, with ±20 % jitter so replicas do not reconnect in step. */
export function defaultBackoff(attempt: number): number {
  const base = Math.min(250 * 2 ** attempt, 30_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** For logs and the restart metric: `pods`, `events`. */
  resource: string;
  kubeConfig: KubeConfig;
  /** Collection path, e.g. `/api/v1/namespaces/beta/pods`. */
  path: string;
  /** Applied to every listed or watched object before it is cached. */
  slim: (obj: T) => T;
  fieldSelector?: string;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Delay before restart number `attempt` (from 0). */
  backoffMs?: (attempt: number) => number;
  log: Logger;
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T) => void;
  onDelete?: (obj: T) => void;
}

/** client-node's Watch, with bookmarks, a server-side timeout, slimming, and a guard against empty reconnect loops. */
class OwnedWatch<T extends KubernetesObject> extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly owner: ResilientInformer<T>,
    private readonly slim: (obj: T) => T,
  ) {
    super(kc);
  }

  /* eslint-disable @typescript-eslint/no-explicit-any -- the signature client-node's Watch declares */
  override async watch(
    path: string,
    params: Record<string, unknown>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    /* eslint-enable @typescript-eslint/no-explicit-any */
    const started = Date.now();
    let events = 0;
    let gone = false;
    // ListWatch calls done() without handling the promise it returns (its re-list and re-watch): a failure there is ours to restart.
    const finish = (err: unknown) => {
      try {
        const pending = done(err) as unknown;
        if (pending instanceof Promise) pending.catch((e: unknown) => this.owner.failed(e));
      } catch (e) {
        this.owner.failed(e);
      }
    };
    let controller: AbortController;
    try {
      controller = await super.watch(
        path,
        // Bookmarks keep the resourceVersion fresh (fewer 410s); the timeout rotates long-lived connections.
        { ...params, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120) },
        (phase, obj, raw) => {
          const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
          // Only objects and bookmarks show the watch works: an ERROR (410 Gone) is no progress and must not reset the backoff.
          if (isObject || phase === 'BOOKMARK') {
            events++;
            this.owner.healthy();
          } else if (phase === 'ERROR') {
            gone ||= (obj as { code?: number } | undefined)?.code === 410;
          }
          callback(phase, isObject ? this.slim(obj as T) : obj, raw);
        },
        (err) => {
          const stopped = this.owner.isStopped;
          if (!stopped) watchRestartsTotal.inc({ resource: this.owner.resource });
          // A server that ends every watch at once (or answers 410 Gone to every fresh list's version) would make
          // ListWatch re-list and reconnect in a tight loop: back off instead (the re-list comes after the delay).
          // One 410 is ordinary (the version expired: ListWatch re-lists at once); a second in a row, right after that list, is not.
          if (!err && !stopped && events === 0 && gone && this.owner.noteGone() >= 2)
            err = new Error('the API server answered 410 Gone to a fresh watch');
          else if (!err && !stopped && events === 0 && Date.now() - started < 1_000)
            err = new Error('the API server closed the watch at once');
          finish(err);
        },
      );
    } catch (err) {
      // client-node prepares the request (credentials: a token file, an exec plugin) outside its own try: that throws here.
      controller = new AbortController();
      controller.abort();
      if (!this.owner.isStopped) watchRestartsTotal.inc({ resource: this.owner.resource });
      finish(err);
      return controller;
    }
    if (this.owner.isStopped) controller.abort();
    return controller;
  }
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly resource: string;
  private readonly informer: ListWatch<T>;
  private stopped = true;
  /** Set by stop(): a start() racing with it (or after it) must not open watches again. */
  private closed = false;
  private attempt = 0;
  /** Watches answered 410 Gone, one after the other, without delivering anything. */
  private goneInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private resolveSynced!: () => void;
  /** Resolves once the first list has been cached (the initial sync). */
  readonly synced: Promise<void>;

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    this.resource = opts.resource;
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    const query = { ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}), limit: opts.pageSize ?? 500 };
    const list = async () => {
      const result = await listInPages((cont) => getList<T>(opts.kubeConfig, opts.path, { ...query, continue: cont }), opts.slim);
      // A list between repeated 410s is no progress: list → watch → 410 → list must keep slowing down.
      if (this.goneInARow <= 1) this.attempt = 0;
      this.resolveSynced();
      return result;
    };
    this.informer = new ListWatch<T>(
      opts.path,
      new OwnedWatch(opts.kubeConfig, this, opts.slim),
      list,
      false,
      undefined,
      opts.fieldSelector,
    );
    if (opts.onAdd) this.informer.on('add', opts.onAdd);
    if (opts.onUpdate) this.informer.on('update', opts.onUpdate);
    if (opts.onDelete) this.informer.on('delete', opts.onDelete);
    this.informer.on('error', (err) => this.failed(err));
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** The watch delivers objects or bookmarks: the next failure starts the backoff from the beginning. */
  healthy(): void {
    this.attempt = 0;
    this.goneInARow = 0;
  }

  /** A watch was answered 410 Gone before it delivered anything; returns how many in a row. */
  noteGone(): number {
    return ++this.goneInARow;
  }

  /** Starts listing and watching; never throws (failures restart with backoff). After stop() it does nothing: an informer is not reused. */
  async start(): Promise<void> {
    if (this.closed) return;
    this.stopped = false;
    await this.informer.start().catch((err: unknown) => this.failed(err));
  }

  /** A list or watch failed (or could not even be started): restart it after the backoff. */
  failed(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const delay = (this.opts.backoffMs ?? defaultBackoff)(this.attempt++);
    const code =
      (err as { statusCode?: number; code?: number | string } | undefined)?.statusCode ??
      (err as { code?: number | string } | undefined)?.code;
    this.opts.log.warn(
      {
        resource: this.resource,
        path: this.opts.path,
        err,
        code,
        retryInMs: delay,
        attempt: this.attempt,
      },
      'watch failed; restarting it',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.informer.start().catch((e: unknown) => this.failed(e));
    }, delay);
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }
}

/**
 * Lists a collection page by page (so a large list is never one huge response),
 * slimming each page before the next one is read.
 */
async function listInPages<T extends KubernetesObject>(
  page: (cont: string | undefined) => Promise<KubernetesListObject<T>>,
  slim: (obj: T) => T,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const res = await page(cont);
    resourceVersion ??= res.metadata?.resourceVersion;
    for (const item of res.items) items.push(slim(item));
    // Plain JSON spells it `continue` (the generated models rename it `_continue`).
    cont = (res.metadata as { continue?: string } | undefined)?.continue || undefined;
  } while (cont);
  return { metadata: { ...(resourceVersion ? { resourceVersion } : {}) }, items };
}

/**
 * GETs a collection page as plain JSON, with the kubeconfig's credentials and
 * TLS settings (as client-node's Watch does). The generated API classes would
 * turn every item into model objects first: for tens of thousands of pods that
 * is seconds of CPU and a heap of garbage, and list items would then differ from
 * watched ones (Dates instead of strings). Failures are ApiExceptions, as from
 * the generated classes.
 */
async function getList<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | undefined>,
): Promise<KubernetesListObject<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { ...opts, method: 'GET', headers: { ...(opts.headers as http.OutgoingHttpHeaders | undefined), accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(
              new ApiException(res.statusCode ?? 0, `GET ${path} answered ${res.statusCode}`, body, res.headers as Record<string, string>),
            );
            return;
          }
          try {
            resolve(JSON.parse(body) as KubernetesListObject<T>);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${path}: no answer in 60 s`)));
    req.on('error', reject);
    req.end();
  });
}
