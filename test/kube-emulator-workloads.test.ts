/** StatefulSets, DaemonSets, ControllerRevisions, PVCs and Ingresses in the kube emulator, checked with the real kubectl. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default', 'sts', 'ds', 'undo', 'ing'], nodes: 3 });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-wl-'));
  kubeconfig = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Run kubectl against the emulator; resolves with stdout/stderr and the exit code (never rejects on a non-zero exit). */
export async function kubectl(args: string[], input?: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  let file: string | undefined;
  if (input !== undefined) {
    file = join(dir, `in-${Math.random().toString(36).slice(2)}.yaml`);
    const docs = Array.isArray(input) ? input : [input];
    await writeFile(file, docs.map((d) => toYaml(d)).join('---\n'));
    args = args.map((a) => (a === '@' ? file! : a));
  }
  try {
    const { stdout, stderr } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    if (typeof err?.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function statefulSet(name: string, image: string, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
      ...extra,
    },
  };
}

function daemonSet(name: string, image: string, podSpec: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'agent', image }], ...podSpec } },
    },
  };
}

const images = (ns: string, app: string): string[] =>
  emu
    .list('v1', 'Pod', ns)
    .filter((p) => p.metadata.labels?.app === app)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => `${p.metadata.name}=${p.spec.containers[0].image}`);

describe('kube emulator workloads', () => {
  it(
    'runs a StatefulSet as the real controller does: ordered pods, claims, revisions, rollout status and undo',
    { timeout: 60_000 },
    async () => {
      const applied = await kubectl(['apply', '-n', 'sts', '-f', '@'], statefulSet('db', 'db:1'));
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toContain('statefulset.apps/db created');
      const status = await kubectl(['rollout', 'status', '-n', 'sts', 'statefulset/db', '--timeout=20s']);
      expect(status.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
      expect(images('sts', 'db')).toEqual(['db-0=db:1', 'db-1=db:1', 'db-2=db:1']);
      const pod0 = emu.get('v1', 'Pod', 'sts', 'db-0');
      expect(pod0.spec.hostname).toBe('db-0');
      expect(pod0.spec.subdomain).toBe('db');
      expect(pod0.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } });
      expect(pod0.metadata.labels['statefulset.kubernetes.io/pod-name']).toBe('db-0');
      expect(
        emu
          .list('v1', 'PersistentVolumeClaim', 'sts')
          .map((c) => c.metadata.name)
          .sort(),
      ).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
      const sts = emu.get('apps/v1', 'StatefulSet', 'sts', 'db');
      expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      expect(sts.status).toMatchObject({
        observedGeneration: 1,
        replicas: 3,
        readyReplicas: 3,
        updatedReplicas: 3,
        currentRevision: sts.status.updateRevision,
      });
      const [rev1] = emu.list('apps/v1', 'ControllerRevision', 'sts');
      expect(rev1.revision).toBe(1);
      expect(rev1.metadata.name).toBe(sts.status.updateRevision);
      expect(rev1.metadata.labels['controller.kubernetes.io/hash']).toBe(rev1.metadata.name.slice('db-'.length));
      expect(rev1.metadata.ownerReferences[0]).toMatchObject({ kind: 'StatefulSet', name: 'db', uid: sts.metadata.uid, controller: true });
      expect(pod0.metadata.labels['controller-revision-hash']).toBe(rev1.metadata.name);

      // partition 2: only db-2 moves to the new image; rollout status waits for exactly that
      const partitioned = statefulSet('db', 'db:2', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
      expect((await kubectl(['apply', '-n', 'sts', '-f', '@'], partitioned)).code).toBe(0);
      const st2 = await kubectl(['rollout', 'status', '-n', 'sts', 'statefulset/db', '--timeout=20s']);
      expect(st2.stdout).toContain('partitioned roll out complete: 1 new pods have been updated...');
      expect(images('sts', 'db')).toEqual(['db-0=db:1', 'db-1=db:1', 'db-2=db:2']);
      const mid = emu.get('apps/v1', 'StatefulSet', 'sts', 'db').status;
      expect(mid.currentRevision).toBe(rev1.metadata.name);
      expect(mid.updateRevision).not.toBe(rev1.metadata.name);
      expect(mid).toMatchObject({ updatedReplicas: 1, currentReplicas: 2 });

      // partition 0: the rest follows, highest ordinal first, and the revisions converge
      expect((await kubectl(['apply', '-n', 'sts', '-f', '@'], statefulSet('db', 'db:2'))).code).toBe(0);
      expect((await kubectl(['rollout', 'status', '-n', 'sts', 'statefulset/db', '--timeout=20s'])).stdout).toContain(
        '3 new pods have been updated',
      );
      expect(images('sts', 'db')).toEqual(['db-0=db:2', 'db-1=db:2', 'db-2=db:2']);
      const done = emu.get('apps/v1', 'StatefulSet', 'sts', 'db').status;
      expect(done.currentRevision).toBe(done.updateRevision);

      // kubectl rollout undo restores revision 1's template from its ControllerRevision; revision 1 becomes 3
      const undo = await kubectl(['rollout', 'undo', '-n', 'sts', 'statefulset/db']);
      expect(undo.stdout).toContain('statefulset.apps/db rolled back');
      expect((await kubectl(['rollout', 'status', '-n', 'sts', 'statefulset/db', '--timeout=20s'])).code).toBe(0);
      expect(images('sts', 'db')).toEqual(['db-0=db:1', 'db-1=db:1', 'db-2=db:1']);
      expect(emu.get('apps/v1', 'ControllerRevision', 'sts', rev1.metadata.name).revision).toBe(3);
      const history = await kubectl(['rollout', 'history', '-n', 'sts', 'statefulset/db']);
      expect(history.stdout).toMatch(/2\s+<none>\s+3\s+<none>/);
      const skip = await kubectl(['rollout', 'undo', '-n', 'sts', 'statefulset/db', '--to-revision=3']);
      expect(skip.stdout).toContain('skipped rollback (current template already matches revision 3)');

      // scale down removes the highest ordinal; claims stay (whenScaled: Retain)
      expect((await kubectl(['scale', '-n', 'sts', 'statefulset/db', '--replicas=1'])).code).toBe(0);
      await emu.waitFor(() => images('sts', 'db').length === 1, 5000, 'scale down to db-0');
      expect(images('sts', 'db')).toEqual(['db-0=db:1']);
      expect(emu.list('v1', 'PersistentVolumeClaim', 'sts')).toHaveLength(3);
    },
  );

  it('leaves OnDelete StatefulSet pods alone until they are deleted', { timeout: 60_000 }, async () => {
    const s = statefulSet('od', 'od:1', { updateStrategy: { type: 'OnDelete' }, replicas: 2, volumeClaimTemplates: [] });
    expect((await kubectl(['apply', '-n', 'sts', '-f', '@'], s)).code).toBe(0);
    await emu.waitFor(() => emu.get('apps/v1', 'StatefulSet', 'sts', 'od')?.status?.readyReplicas === 2, 5000, 'od ready');
    expect((await kubectl(['set', 'image', '-n', 'sts', 'statefulset/od', 'web=od:2'])).code).toBe(0);
    await emu.waitFor(() => emu.get('apps/v1', 'StatefulSet', 'sts', 'od')?.status?.observedGeneration === 2, 5000, 'observed');
    const st = await kubectl(['rollout', 'status', '-n', 'sts', 'statefulset/od', '--timeout=5s']);
    expect(st.stderr).toContain('rollout status is only available for RollingUpdate strategy type');
    expect(images('sts', 'od')).toEqual(['od-0=od:1', 'od-1=od:1']);
    expect((await kubectl(['delete', 'pod', '-n', 'sts', 'od-1'])).code).toBe(0);
    await emu.waitFor(() => images('sts', 'od').join() === 'od-0=od:1,od-1=od:2', 5000, 'od-1 recreated at the new revision');
    const status = emu.get('apps/v1', 'StatefulSet', 'sts', 'od').status;
    expect(status).toMatchObject({ currentReplicas: 1, updatedReplicas: 1 });
    expect(status.currentRevision).not.toBe(status.updateRevision);
  });

  it('runs a DaemonSet on every eligible node, rolls it, and undoes it', { timeout: 60_000 }, async () => {
    emu.addNode('tainted', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], labels: { pool: 'gpu' } });
    try {
      const applied = await kubectl(['apply', '-n', 'ds', '-f', '@'], daemonSet('agent', 'agent:1'));
      expect(applied.stdout).toContain('daemonset.apps/agent created');
      expect((await kubectl(['rollout', 'status', '-n', 'ds', 'daemonset/agent', '--timeout=20s'])).stdout).toContain(
        'daemon set "agent" successfully rolled out',
      );
      const nodesOf = (app: string): string[] =>
        emu
          .list('v1', 'Pod', 'ds')
          .filter((p) => p.metadata.labels?.app === app)
          .map((p) => p.spec.nodeName)
          .sort();
      expect(nodesOf('agent')).toEqual(['node-1', 'node-2', 'node-3']);
      const ds = emu.get('apps/v1', 'DaemonSet', 'ds', 'agent');
      expect(ds.status).toMatchObject({
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberReady: 3,
        numberAvailable: 3,
        observedGeneration: 1,
      });
      expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });

      // a toleration and a nodeSelector: only the tainted node
      const gpu = daemonSet('gpu', 'gpu:1', {
        nodeSelector: { pool: 'gpu' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      });
      expect((await kubectl(['apply', '-n', 'ds', '-f', '@'], gpu)).code).toBe(0);
      expect((await kubectl(['rollout', 'status', '-n', 'ds', 'daemonset/gpu', '--timeout=20s'])).code).toBe(0);
      expect(nodesOf('gpu')).toEqual(['tainted']);
      expect(emu.get('apps/v1', 'DaemonSet', 'ds', 'gpu').status.desiredNumberScheduled).toBe(1);

      expect((await kubectl(['set', 'image', '-n', 'ds', 'daemonset/agent', 'agent=agent:2'])).code).toBe(0);
      expect((await kubectl(['rollout', 'status', '-n', 'ds', 'daemonset/agent', '--timeout=20s'])).code).toBe(0);
      expect(images('ds', 'agent').map((s) => s.split('=')[1])).toEqual(['agent:2', 'agent:2', 'agent:2']);
      const revs = emu.list('apps/v1', 'ControllerRevision', 'ds').filter((r) => r.metadata.name.startsWith('agent-'));
      expect(revs.map((r) => r.revision).sort()).toEqual([1, 2]);
      const undo = await kubectl(['rollout', 'undo', '-n', 'ds', 'daemonset/agent']);
      expect(undo.stdout).toContain('daemonset.apps/agent rolled back');
      expect((await kubectl(['rollout', 'status', '-n', 'ds', 'daemonset/agent', '--timeout=20s'])).code).toBe(0);
      expect(images('ds', 'agent').map((s) => s.split('=')[1])).toEqual(['agent:1', 'agent:1', 'agent:1']);
      const hash = emu.list('apps/v1', 'ControllerRevision', 'ds').find((r) => r.revision === 3)?.metadata.labels[
        'controller.kubernetes.io/hash'
      ];
      expect(
        emu
          .list('v1', 'Pod', 'ds')
          .filter((p) => p.metadata.labels.app === 'agent')
          .every((p) => p.metadata.labels['controller-revision-hash'] === hash),
      ).toBe(true);
    } finally {
      emu.remove('v1', 'Node', undefined, 'tainted');
    }
  });

  it('stores Ingresses and refuses invalid ones with the apiserver message', async () => {
    const ingress = (path: string, pathType?: string): any => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: 'web.example.com',
            http: { paths: [{ path, ...(pathType ? { pathType } : {}), backend: { service: { name: 'web', port: { number: 80 } } } }] },
          },
        ],
        tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
      },
    });
    const bad = await kubectl(['apply', '-n', 'ing', '-f', '@'], ingress('/'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      'The Ingress "web" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    );
    const ok = await kubectl(['apply', '-n', 'ing', '-f', '@'], ingress('/', 'Prefix'));
    expect(ok.stdout).toContain('ingress.networking.k8s.io/web created');
    const got = await kubectl(['get', 'ingress', '-n', 'ing', 'web', '-o', 'jsonpath={.spec.rules[0].host}']);
    expect(got.stdout).toBe('web.example.com');
  });
});
