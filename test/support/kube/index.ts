/**
 * Kubernetes API emulator for tests, benchmarks and a local sandbox: a real HTTP server speaking the
 * apiserver's JSON (discovery, CRUD, four patch types, watch with resourceVersion/410, logs, access reviews)
 * plus an in-process controller (Deployments → ReplicaSets → Pods, scheduler, kubelet behaviours).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Controller } from './controller.js';
import type { EventMode } from './events.js';
import type { PodBehavior } from './pod-runs.js';
import { createObject, deleteObject, replaceObject } from './operations.js';
import { formatMemory, quantity } from './quantity.js';
import { mustResource } from './resources.js';
import { MetricsModel } from './metrics.js';
import { ExecEmulator, type ExecCall, type ExecScript } from './exec.js';
import { KubeServer, type DenyRule, type RecordedRequest, type RequestHook } from './server.js';
import { Store } from './store.js';
import { evictionMessage, setNodeCondition, type NodeConditionType } from './node-health.js';

export type { PodBehavior } from './pod-runs.js';
export type { RecordedRequest, DenyRule, RequestHook } from './server.js';
export type { EventMode } from './events.js';
export { podTemplateHash } from './deployment-rules.js';

export interface AddNodeOptions {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: any[];
  unschedulable?: boolean;
}

export interface KubeEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Write a kubeconfig (one context per name, default ['emulator'], all pointing here, insecure-skip-tls-verify: true). Returns the path. */
  writeKubeconfig(path: string, contexts?: string[]): Promise<string>;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Run `hook` on each request it matches, before or after it is handled (see RequestHook); returns its removal. */
  onRequest(hook: RequestHook): () => void;
  /** Direct object access (bypassing HTTP). Returned objects are copies. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): any | undefined;
  list(apiVersion: string, kind: string, namespace?: string): any[];
  /** Server-side create (defaults + validation; status kept as given); fires ADDED. */
  create(obj: any): any;
  /** Replace, status included (resourceVersion checked when set); fires MODIFIED. */
  update(obj: any): any;
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Pod behaviour per exact image string ("repo:tag"); others get the default behaviour. */
  setImageBehavior(image: string, behavior: PodBehavior): void;
  setDefaultBehavior(behavior: PodBehavior): void;
  /** OOM-kill a container now: terminated OOMKilled/137 (MODIFIED, synchronous), then CrashLoopBackOff with restartCount+1 and lastState.terminated, then running again. */
  oomKill(namespace: string, podName: string, container?: string, opts?: { restartAfterMs?: number }): boolean;
  /**
   * OOM-kill a running container after its memory climbs to the limit over `riseMs` (as metrics.k8s.io
   * and the Prometheus emulator report it); resolves with oomKill's answer once killed.
   */
  oomKillAfterRise(
    namespace: string,
    podName: string,
    riseMs: number,
    opts?: { container?: string; restartAfterMs?: number },
  ): Promise<boolean>;
  /** The memory model behind metrics.k8s.io (shared with the Prometheus emulator). */
  readonly metrics: MetricsModel;
  /** Serve metrics.k8s.io (metrics-server installed), default true; false: the group is absent (404). */
  setMetricsServer(enabled: boolean): void;
  /**
   * The kubelet evicts a running pod under node pressure: Failed, reason Evicted, its message (default: low on
   * memory, worded as the eviction manager does), containers killed; its controller replaces it. Returns the pod.
   */
  evictPod(namespace: string, podName: string, opts?: { resource?: 'memory' | 'ephemeral-storage' | 'pids'; message?: string }): any;
  /** A node condition goes bad or good again, as the kubelet and node controller report it (see node-health.ts). */
  setNodeCondition(name: string, type: NodeConditionType, bad: boolean, opts?: { reason?: string; message?: string }): any;
  /** Append lines to a pod container's current log. */
  /** `at` (ms since epoch) dates the lines, e.g. in the past for `sinceSeconds`; default now. */
  appendLogs(namespace: string, podName: string, lines: string[], container?: string, at?: number): void;
  /** What an exec of exactly this argv prints and exits with (pods/exec); unscripted commands are "not found", exit 126. */
  scriptExec(command: string[], result: ExecScript): void;
  /** Every exec that reached a container. */
  readonly execs: readonly ExecCall[];
  addNode(name: string, opts?: AddNodeOptions): any;
  /** Forget watch history: resuming from an older resourceVersion then gets 410 Expired. */
  compactHistory(): void;
  /** End all open watch streams (clean end by default; abrupt = socket destroyed, the client sees an error). */
  dropWatches(opts?: { abrupt?: boolean }): void;
  /** Number of open watch streams. */
  watchCount(): number;
  /** Refuse an access (403 Forbidden on requests; SelfSubjectAccessReview says allowed: false). resource may be "pods/log". */
  deny(rule: DenyRule): void;
  /** Remove all deny rules. */
  clearDenies(): void;
  /** Pause/resume the controller, scheduler and kubelet (work due while paused runs on resume). */
  pauseController(): void;
  resumeController(): void;
  /** Current global resourceVersion. */
  resourceVersion(): string;
  /** Resolve with the predicate's first truthy value, re-checked after store changes (no polling); rejects after timeoutMs (default 5000). */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  close(): Promise<void>;
}

export interface KubeEmulatorOptions {
  /** default 3 nodes named node-1.., each 4 cpu / 8Gi / 110 pods */
  nodes?: number;
  /** created up front, default ['default'] */
  namespaces?: string[];
  /** watch events kept for resumption, default 10000 */
  historyLimit?: number;
  /** base delay of controller/kubelet steps in ms, default 10 */
  tickMs?: number;
  /** which Events to record: all (default), only warnings, or none (big benchmarks) */
  events?: EventMode;
  /** fixed port (default 0 = random) */
  port?: number;
}

function resOf(apiVersion: string, kind: string) {
  return mustResource(apiVersion, kind);
}

export async function startKubeEmulator(opts: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const store = new Store(opts.historyLimit ?? 10_000);
  const controller = new Controller(store, { tickMs: opts.tickMs ?? 10, events: opts.events ?? 'all' });
  // eslint-disable-next-line prefer-const -- the exec emulator's callback reads it before it is assigned below
  let server: KubeServer;
  const exec = new ExecEmulator(store, (namespace, name) =>
    server.isDenied({ verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace, name }),
  );
  const metrics = new MetricsModel(store);
  server = new KubeServer(store, {
    metrics,
    podLogs: (pod, q) => controller.kubelet.podLogs(pod, q),
    followPodLogs: (pod, q, follower) => controller.kubelet.followPodLogs(pod, q, follower),
    upgrade: (req, socket, head) => exec.upgrade(req, socket, head),
  });
  const url = await server.listen(opts.port ?? 0);
  let nodeCount = 0;

  const addNode = (name: string, o: AddNodeOptions = {}): any => {
    const n = ++nodeCount;
    const cpu = o.cpu ?? '4';
    const memory = o.memory ?? '8Gi';
    const pods = String(o.pods ?? 110);
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': `emulated-${cpu}c-${formatMemory(quantity(memory)).toLowerCase()}`,
          'topology.kubernetes.io/zone': `zone-${String.fromCharCode(97 + ((n - 1) % 3))}`,
          ...(o.labels ?? {}),
        },
      },
      spec: {
        podCIDR: `10.244.${n}.0/24`,
        ...(o.taints ? { taints: o.taints } : {}),
        ...(o.unschedulable ? { unschedulable: true } : {}),
      },
      status: {
        capacity: { cpu, memory, pods, 'ephemeral-storage': '100Gi' },
        allocatable: { cpu, memory, pods, 'ephemeral-storage': '100Gi' },
        conditions: [
          ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
          ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
          ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
          ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
        ].map(([type, status, reason, message]) => ({
          type,
          status,
          reason,
          message,
          lastHeartbeatTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        })),
        addresses: [
          { type: 'InternalIP', address: `10.0.0.${n + 1}` },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          architecture: 'amd64',
          operatingSystem: 'linux',
          osImage: 'Debian GNU/Linux 12 (bookworm)',
          kernelVersion: '6.1.0-emulated',
          containerRuntimeVersion: 'containerd://1.7.18',
          kubeletVersion: 'v1.31.0',
          kubeProxyVersion: 'v1.31.0',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    };
    return structuredClone(createObject(store, resOf('v1', 'Node'), node, undefined));
  };

  for (const ns of opts.namespaces ?? ['default']) {
    createObject(store, resOf('v1', 'Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, undefined);
  }
  for (let i = 1; i <= (opts.nodes ?? 3); i++) addNode(`node-${i}`);

  const emulator: KubeEmulator = {
    url,
    requests: server.requests,
    onRequest(hook) {
      server.requestHooks.add(hook);
      return () => server.requestHooks.delete(hook);
    },
    async writeKubeconfig(path, contexts = ['emulator']) {
      const names = contexts.length ? contexts : ['emulator'];
      const cfg = {
        apiVersion: 'v1',
        kind: 'Config',
        preferences: {},
        clusters: names.map((n) => ({ name: n, cluster: { server: url, 'insecure-skip-tls-verify': true } })),
        users: [{ name: 'emulator-user', user: { token: 'emulator-token' } }],
        contexts: names.map((n) => ({ name: n, context: { cluster: n, user: 'emulator-user', namespace: 'default' } })),
        'current-context': names[0],
      };
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, toYaml(cfg));
      return path;
    },
    get(apiVersion, kind, namespace, name) {
      const o = store.get(resOf(apiVersion, kind), namespace, name);
      return o === undefined ? undefined : structuredClone(o);
    },
    list(apiVersion, kind, namespace) {
      return structuredClone(store.list(resOf(apiVersion, kind), namespace));
    },
    create(obj) {
      const r = resOf(obj?.apiVersion, obj?.kind);
      return structuredClone(createObject(store, r, obj, obj.metadata?.namespace));
    },
    update(obj) {
      const r = resOf(obj?.apiVersion, obj?.kind);
      return structuredClone(replaceObject(store, r, obj.metadata?.namespace, obj.metadata?.name, obj));
    },
    remove(apiVersion, kind, namespace, name) {
      deleteObject(store, resOf(apiVersion, kind), namespace, name);
    },
    setImageBehavior: (image, b) => controller.setImageBehavior(image, b),
    setDefaultBehavior: (b) => controller.setDefaultBehavior(b),
    oomKill: (ns, pod, container, opts) => controller.kubelet.oomKill(ns, pod, container, opts),
    oomKillAfterRise(ns, pod, riseMs, opts = {}) {
      const container = opts.container ?? store.get(resOf('v1', 'Pod'), ns, pod)?.spec?.containers?.[0]?.name;
      if (!container) throw new Error(`kube emulator: pod ${ns}/${pod} not found`);
      metrics.announceOomKill(ns, pod, container, riseMs);
      return new Promise((resolve, reject) => {
        setTimeout(() => {
          try {
            resolve(
              controller.kubelet.oomKill(
                ns,
                pod,
                container,
                opts.restartAfterMs !== undefined ? { restartAfterMs: opts.restartAfterMs } : {},
              ),
            );
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        }, riseMs);
      });
    },
    metrics,
    setMetricsServer: (enabled) => {
      metrics.enabled = enabled;
    },
    evictPod: (ns, pod, o = {}) =>
      structuredClone(
        controller.kubelet.evict(ns, pod, o.message ?? evictionMessage(store.get(resOf('v1', 'Pod'), ns, pod), o.resource ?? 'memory')),
      ),
    setNodeCondition: (name, type, bad, o) => setNodeCondition(emulator, name, type, bad, o),
    appendLogs: (ns, pod, lines, container, at) => controller.kubelet.appendLogs(ns, pod, lines, container, at),
    addNode,
    compactHistory: () => store.compactHistory(),
    dropWatches: (o) => server.dropWatches(o?.abrupt ?? false),
    watchCount: () => server.watcherCount(),
    deny: (rule) => {
      server.denies.push({ ...rule });
    },
    clearDenies: () => {
      server.denies.length = 0;
    },
    pauseController: () => controller.pause(),
    resumeController: () => controller.resume(),
    resourceVersion: () => String(store.resourceVersion),
    waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let pending = false;
        let done = false;
        let unsubscribe: () => void = () => {};
        const finish = (fn: () => void): void => {
          done = true;
          clearTimeout(timer);
          unsubscribe();
          fn();
        };
        const check = (): void => {
          pending = false;
          if (done) return;
          try {
            const v = predicate();
            if (v) finish(() => resolve(v));
          } catch (err) {
            finish(() => reject(err instanceof Error ? err : new Error(String(err))));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`kube emulator: timed out after ${timeoutMs}ms waiting for ${what}`))),
          timeoutMs,
        );
        unsubscribe = store.onChange(() => {
          if (!pending) {
            pending = true;
            setImmediate(check);
          }
        });
        check();
      });
    },
    scriptExec: (command, result) => exec.script(command, result),
    execs: exec.calls,
    async close() {
      metrics.close();
      controller.close();
      exec.close();
      await server.close();
    },
  };
  return emulator;
}
