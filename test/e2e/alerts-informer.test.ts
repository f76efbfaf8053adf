/**
 * The alerts watch against the Kubernetes emulator, without the rest of the
 * bot: credentials that fail while the watch is being (re)started must not
 * reject a promise nobody handles (that ends the process), and the watch comes
 * back once they work again; a watch stopped while it starts stays stopped.
 */
import { EventEmitter } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMonitor } from '../../src/alerts/monitor.js';
import type { IncidentStore } from '../../src/alerts/incidents.js';
import { ResilientInformer } from '../../src/alerts/watch.js';
import { makeClusterClient } from '../../src/kube/clusters.js';
import { startKubeEmulator, type KubeEmulator } from '../support/kube/index.js';

let kube: KubeEmulator;
let dir: string;
/** Every log line and every object the informer reports signal a change; `until` re-checks on each (no polling, no sleeps). */
const changes = new EventEmitter();
const warnings: Array<{ msg: string }> = [];
const log = pino(
  { level: 'warn' },
  {
    write: (line: string) => {
      warnings.push(JSON.parse(line));
      changes.emit('change');
    },
  },
);
function until<T>(predicate: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      changes.off('change', check);
    };
    const check = () => {
      const v = predicate();
      if (v) {
        done();
        resolve(v);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    changes.on('change', check);
    check();
  });
}
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  kube = await startKubeEmulator({ namespaces: ['default', 'beta'] });
  dir = await mkdtemp(join(tmpdir(), 'chatops-informer-'));
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await kube?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const pod = (name: string): any => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'beta', labels: { app: name } },
  spec: { containers: [{ name: 'app', image: 'registry.example.com/team/x:1' }] },
});
const podWatches = (since: number) =>
  kube.requests.slice(since).filter((r) => r.path === '/api/v1/namespaces/beta/pods' && ['true', '1'].includes(String(r.query.watch)));
const podRequests = (since: number) => kube.requests.slice(since).filter((r) => r.path === '/api/v1/namespaces/beta/pods');

/**
 * A kubeconfig whose credentials come from an exec plugin (as EKS's and GKE's do)
 * that fails while the file `broken` exists. Its credential expires at once, so
 * every request runs it again.
 */
async function execKubeconfig(): Promise<{ kc: KubeConfig; broken: string }> {
  const broken = join(dir, 'broken');
  const plugin = join(dir, 'plugin.mjs');
  await writeFile(
    plugin,
    `import { existsSync } from 'node:fs';
if (existsSync(${JSON.stringify(broken)})) { process.stderr.write('token source unavailable'); process.exit(1); }
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'emulator-token', expirationTimestamp: '2000-01-01T00:00:00Z' } }));
`,
  );
  await chmod(plugin, 0o755);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'emulator', server: kube.url, skipTLSVerify: true }],
    users: [
      {
        name: 'exec-user',
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin], interactiveMode: 'Never' },
      },
    ],
    contexts: [{ name: 'emulator', cluster: 'emulator', user: 'exec-user' }],
    currentContext: 'emulator',
  });
  return { kc, broken };
}

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

describe('the alerts watch, when its credentials fail', () => {
  it('keeps the process up while the watch cannot be re-opened, and watches again once they work', async () => {
    const { kc, broken } = await execKubeconfig();
    const added: string[] = [];
    const informer = new ResilientInformer<V1Pod>({
      resource: 'pods',
      kubeConfig: kc,
      path: '/api/v1/namespaces/beta/pods',
      slim: (p) => p,
      backoffMs: () => 50,
      log,
      onAdd: (p) => {
        added.push(p.metadata?.name ?? '');
        changes.emit('change');
      },
    });
    stoppers.push(() => informer.stop());
    await informer.start();
    await informer.synced;
    kube.create(pod('before-outage'));
    await until(() => added.includes('before-outage'), 5_000, 'a pod seen through the watch');

    // The credentials break, then the watch ends: ListWatch re-watches at once, and client-node's
    // Watch runs the exec plugin outside its try: that rejection used to go unhandled.
    await writeFile(broken, '');
    const since = kube.requests.length;
    const restarts = () => warnings.filter((w) => w.msg === 'watch failed; restarting it').length;
    const before = restarts();
    kube.dropWatches();
    kube.create(pod('during-outage'));
    await until(() => restarts() >= before + 3, 10_000, 'three failed restarts');
    // Nothing reached the API server while the plugin failed.
    expect(podRequests(since)).toEqual([]);
    expect(unhandled).toEqual([]);

    await rm(broken);
    await until(() => added.includes('during-outage'), 10_000, 'the pod created during the outage seen');
    kube.create(pod('after-outage'));
    await until(() => added.includes('after-outage'), 5_000, 'a pod created afterwards seen');
    expect(podWatches(since).length).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  });
});

describe('stopping while starting', () => {
  it('an informer stopped before it starts opens nothing', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(await kube.writeKubeconfig(join(dir, 'kubeconfig')));
    const informer = new ResilientInformer<V1Pod>({
      resource: 'pods',
      kubeConfig: kc,
      path: '/api/v1/namespaces/beta/pods',
      slim: (p) => p,
      log,
    });
    const since = kube.requests.length;
    await informer.stop();
    await informer.start();
    expect(podRequests(since)).toHaveLength(0);
  });

  it('a monitor stopped while it reads the open incidents starts no watch', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(await kube.writeKubeconfig(join(dir, 'kubeconfig')));
    let reading!: () => void;
    let release!: (incidents: []) => void;
    const read = new Promise<void>((resolve) => (reading = resolve));
    // Only openIncidents is reached before the watches start; it waits until the test lets it go.
    const store = {
      openIncidents: () => {
        reading();
        return new Promise<[]>((resolve) => (release = resolve));
      },
    } as unknown as IncidentStore;
    const monitor = new ClusterMonitor({
      cluster: makeClusterClient('default', kc),
      targets: [{ namespace: 'beta', routes: new Map() }],
      store,
      enqueue: async () => {},
      log,
    });
    const since = kube.requests.length;
    const starting = monitor.start();
    await read;
    await monitor.stop();
    release([]);
    await starting;
    expect(monitor.podCount()).toBe(0);
    expect(kube.requests.slice(since).filter((r) => r.path.startsWith('/api/v1/namespaces/beta/'))).toEqual([]);
    // And it does not come back.
    await monitor.start();
    expect(kube.requests.slice(since).filter((r) => r.path.startsWith('/api/v1/namespaces/beta/'))).toEqual([]);
  });
});
