import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { unavailable } from '../errors/index.js';

export interface WatchUntilOptions<T> {
  cluster: ClusterClient;
  /** Collection path, e.g. /apis/apps/v1/namespaces/beta/deployments */
  path: string;
  name: string;
  /** Reads the object once; the watch resumes from its resourceVersion. */
  read(): Promise<T>;
  /** Called with every version of the object; return true to stop. */
  onObject(obj: T): boolean | Promise<boolean>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Injected for tests; capped exponential backoff between reconnects. */
  backoffMs?: (attempt: number) => number;
  onReconnect?: (err: unknown) => void;
}

const defaultBackoff = (attempt: number) => Math.min(250 * 2 ** attempt, 5_000);

/**
 * Follows one object with a watch (never polling) until `onObject` says done,
 * the signal aborts or the timeout passes. The watch is ours: on any error or
 * server-side close it re-reads the object and watches again, with capped backoff.
 */
export async function watchUntil<T extends KubernetesObject>(opts: WatchUntilOptions<T>): Promise<'done' | 'aborted' | 'timeout'> {
  const backoff = opts.backoffMs ?? defaultBackoff;
  const deadline = Date.now() + opts.timeoutMs;
  let attempt = 0;

  while (!opts.signal.aborted) {
    if (Date.now() >= deadline) return 'timeout';
    let object: T;
    try {
      object = await opts.read();
    } catch (err) {
      if (attempt >= 8) throw err;
      opts.onReconnect?.(err);
      await delay(backoff(attempt++), opts.signal);
      continue;
    }
    if (await opts.onObject(object)) return 'done';

    const outcome = await new Promise<'done' | 'aborted' | 'timeout' | 'reconnect'>((resolve) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (value: 'done' | 'aborted' | 'timeout' | 'reconnect') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(value);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), Math.max(0, deadline - Date.now()));
      opts.signal.addEventListener('abort', onAbort, { once: true });
      // aborted while the object was being read: no abort event will come
      if (opts.signal.aborted) {
        finish('aborted');
        return;
      }
      let handling = Promise.resolve();
      opts.cluster.watch
        .watch(
          opts.path,
          {
            fieldSelector: `metadata.name=${opts.name}`,
            resourceVersion: object.metadata?.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: 300,
          },
          (phase, obj: T) => {
            if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
            // Handle events in order, one at a time.
            handling = handling.then(async () => {
              if (!settled && (await opts.onObject(obj))) finish('done');
            });
          },
          (err) => {
            if (err) opts.onReconnect?.(err);
            void handling.then(() => finish('reconnect'));
          },
        )
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        })
        .catch((err: unknown) => {
          opts.onReconnect?.(err);
          finish('reconnect');
        });
    });
    if (outcome !== 'reconnect') return outcome;
    await delay(backoff(attempt++), opts.signal);
    if (attempt > 50) throw unavailable('Lost the watch on the Kubernetes API too many times.');
  }
  return 'aborted';
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
