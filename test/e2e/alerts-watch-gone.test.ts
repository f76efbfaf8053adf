/**
 * An API server that answers 410 Gone to every watch, even one opened right after a fresh list (seen with
 * a misbehaving proxy or an etcd compaction storm): the alerts watch must back off between re-lists
 * instead of looping list → watch → 410 → list without a pause.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilientInformer } from '../../src/alerts/watch.js';
import { createLogger } from '../../src/log.js';

let server: http.Server;
const lists: number[] = [];
let listed: (() => void) | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      // What the API server sends for a resourceVersion it no longer has: one ERROR event, then the end.
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 5 (9)', reason: 'Expired', code: 410 } })}\n`,
      );
      return;
    }
    lists.push(Date.now());
    listed?.();
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const listsReach = (n: number, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${lists.length} lists in ${timeoutMs} ms`)), timeoutMs);
    listed = () => {
      if (lists.length >= n) {
        clearTimeout(timer);
        resolve();
      }
    };
    listed();
  });

describe('the alerts watch against 410 Gone answered again and again', () => {
  it('re-lists with a growing delay, not in a tight loop', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const delays: number[] = [];
    const informer = new ResilientInformer<V1Pod>({
      resource: 'pods',
      kubeConfig: kc,
      path: '/api/v1/namespaces/beta/pods',
      slim: (p) => p,
      backoffMs: (attempt) => {
        delays.push(50 * 2 ** attempt);
        return 50 * 2 ** attempt;
      },
      log: createLogger('silent'),
    });
    try {
      await informer.start();
      await listsReach(5, 10_000);
    } finally {
      await informer.stop();
    }
    // The first 410 re-lists at once (an expired version is ordinary); the ones after it in a row go through
    // the backoff, which grows instead of being reset by each list.
    expect(delays.length).toBeGreaterThanOrEqual(3);
    delays.slice(1).forEach((d, i) => expect(d).toBeGreaterThanOrEqual(delays[i]!));
    expect(delays.at(-1)!).toBeGreaterThan(delays[0]!);
    expect(lists[4]! - lists[0]!).toBeGreaterThanOrEqual(delays.slice(0, 3).reduce((a, b) => a + b, 0) - 15);
  });
});
