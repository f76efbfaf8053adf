/** The kube emulator's watches through client-node: resuming from a resourceVersion, 410 after compaction, informers re-listing. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merge, watchUntil } from './support/kube-client.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let dir: string;
let kubeconfigPath: string;

const NAMESPACES = ['default', 'watch', 'informer'];

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: NAMESPACES });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-'));
  kubeconfigPath = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  kc.setCurrentContext('emulator');
  core = kc.makeApiClient(k8s.CoreV1Api);
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kube emulator watches', () => {
  it('resumes a watch from a resourceVersion, and answers 410 Expired after compaction', async () => {
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'before' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'watch' });
    const rv = list.metadata!.resourceVersion!;
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'after-1', labels: { pick: 'yes' } } } });
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'after-2' } } });

    const seen: string[] = [];
    await watchUntil(kc, '/api/v1/namespaces/watch/configmaps', { resourceVersion: rv }, (type, o) => {
      seen.push(`${type} ${o.metadata.name}`);
      return o.metadata.name === 'after-2';
    });
    expect(seen).toEqual(['ADDED after-1', 'ADDED after-2']);

    // label selector: an object that stops matching is reported as DELETED
    const changes: string[] = [];
    const gone = watchUntil(kc, '/api/v1/namespaces/watch/configmaps', { resourceVersion: rv, labelSelector: 'pick=yes' }, (type, o) => {
      changes.push(`${type} ${o.metadata.name}`);
      return type === 'DELETED';
    });
    await core.patchNamespacedConfigMap({ namespace: 'watch', name: 'after-1', body: { metadata: { labels: { pick: 'no' } } } }, merge);
    await gone;
    expect(changes).toEqual(['ADDED after-1', 'DELETED after-1']);

    emu.compactHistory();
    const expired = await watchUntil(kc, '/api/v1/namespaces/watch/configmaps', { resourceVersion: rv }, (type) => type === 'ERROR');
    expect(expired).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(expired.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('makeInformer re-lists after 410 without losing objects', async () => {
    for (const n of ['a', 'b']) await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: n } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informer/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'informer' }),
    );
    const added = new Set<string>();
    let waiters: Array<() => void> = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => {
      added.add(o.metadata!.name!);
      for (const w of waiters) w();
    });
    informer.on('error', (e) => errors.push(e));
    const addedAll = (names: string[]): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (names.every((n) => added.has(n))) resolve();
        };
        waiters.push(check);
        check();
      });
    await informer.start();
    await addedAll(['a', 'b']);
    const listsBefore = emu.requests.filter((r) => r.path === '/api/v1/namespaces/informer/configmaps' && !r.query.watch).length;

    // connection dropped, an object created meanwhile, history forgotten: the informer resumes from an
    // expired RV, gets the 410 ERROR event, re-lists, and sees the object
    emu.dropWatches();
    emu.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'informer' } });
    emu.compactHistory();
    await addedAll(['c']);
    const listsAfter = emu.requests.filter((r) => r.path === '/api/v1/namespaces/informer/configmaps' && !r.query.watch).length;
    expect(listsAfter).toBe(listsBefore + 1);
    expect(
      informer
        .list('informer')
        .map((o) => o.metadata!.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([]);

    // and it keeps watching after the re-list
    await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: 'd' } } });
    await addedAll(['d']);
    expect(errors).toEqual([]);
    await informer.stop(); // note: client-node 1.4 emits an AbortError on 'error' when stopped
    waiters = [];
  });
});
