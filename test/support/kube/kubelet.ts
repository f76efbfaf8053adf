/** Pod lifecycle on a node: image pulls, container starts, readiness, crashes, OOM kills, back-off, logs. */
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import { qosClass } from './defaults.js';
import type { EventRecorder } from './events.js';
import { mustResource } from './resources.js';
import { ApiError } from './status.js';
import { nowTime, type Store, type StoreEvent } from './store.js';

export type PodBehavior =
  | { kind: 'ready'; readyAfterMs?: number }
  | { kind: 'imagePullFailure'; message?: string }
  | { kind: 'crashLoop'; exitCode?: number; logLines?: string[] }
  | { kind: 'oomKilled'; logLines?: string[] }
  | { kind: 'slowReady'; readyAfterMs: number };

const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');

interface LogLine {
  t: number;
  ts: string;
  text: string;
}

interface ContainerRun {
  name: string;
  image: string;
  state: any;
  lastState: any;
  ready: boolean;
  started: boolean;
  everRan: boolean;
  restartCount: number;
  backoffSteps: number;
  containerID?: string;
  startedAt?: string;
  current: LogLine[];
  previous?: LogLine[];
  timer?: NodeJS.Timeout;
}

interface PodRun {
  ns: string;
  name: string;
  uid: string;
  node: string;
  hostIP: string;
  podIP: string;
  startTime: string;
  readySince: string;
  wasReady: boolean;
  containers: ContainerRun[];
  stopped: boolean;
}

/** A `follow=true` log reader: receives new lines until its container stops or its pod goes. */
export interface LogFollower {
  write(text: string): void;
  end(): void;
}

export interface KubeletOptions {
  tickMs: number;
  behaviorFor(image: string): PodBehavior;
}

function timestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}Z`;
}

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s */
function goDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/** docker.io/library/nginx:1.25 for nginx:1.25 */
export function fullImageRef(image: string): string {
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let ref = image;
  if (!hasRegistry) ref = image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
  const last = ref.split('/').pop() ?? '';
  if (!last.includes(':') && !ref.includes('@')) ref += ':latest';
  return ref;
}

const DEFAULT_LINES: Record<PodBehavior['kind'], string[]> = {
  ready: ['starting app on :8080', 'connected to backing services', 'listening on :8080', 'ready to serve requests'],
  slowReady: ['starting app on :8080', 'warming caches', 'listening on :8080', 'ready to serve requests'],
  crashLoop: [
    'starting app on :8080',
    'loading configuration from /etc/app/config.yaml',
    'fatal: required setting DATABASE_URL is not set',
    'exiting with status 1',
  ],
  oomKilled: ['starting app on :8080', 'loading dataset into memory', 'allocated 256Mi for cache', 'allocated 512Mi for cache'],
  imagePullFailure: [],
};

export class Kubelet {
  private readonly runs = new Map<string, PodRun>();
  private readonly extraLogs = new Map<string, LogLine[]>();
  /** `ns/pod/container` → open `follow=true` streams. */
  private readonly followers = new Map<string, Set<LogFollower>>();
  private ipCounter = 0;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
    private readonly opts: KubeletOptions,
  ) {}

  private get tick(): number {
    return this.opts.tickMs;
  }

  private backoffMs(steps: number): number {
    const base = Math.max(200, this.tick * 10);
    return Math.min(base * 2 ** steps, base * 5);
  }

  observe(ev: StoreEvent): void {
    if (ev.res !== POD) return;
    const pod = ev.obj;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (ev.type === 'DELETED') {
      this.stop(key, ev.prev);
      return;
    }
    const run = this.runs.get(key);
    if (run && run.uid !== pod.metadata.uid) this.stop(key, undefined);
    if (this.runs.has(key) || !this.startable(pod)) return;
    // never write from inside a store listener: start on the next turn
    this.clock.after(0, () => {
      const cur = this.store.get(POD, pod.metadata.namespace, pod.metadata.name);
      if (cur && cur.metadata.uid === pod.metadata.uid && !this.runs.has(key) && this.startable(cur)) this.start(cur);
    });
  }

  private startable(pod: any): boolean {
    return !!pod.spec?.nodeName && !pod.status?.containerStatuses && (pod.status?.phase ?? 'Pending') === 'Pending';
  }

  close(): void {
    for (const r of this.runs.values()) r.stopped = true;
    this.runs.clear();
    for (const key of [...this.followers.keys()]) this.endFollowers(key);
  }

  /** Like the kubelet, a followed stream ends when its container stops (crash, restart, pod deleted). */
  private endFollowers(key: string): void {
    const set = this.followers.get(key);
    this.followers.delete(key);
    for (const f of set ?? []) f.end();
  }

  private endPodFollowers(podKey: string): void {
    for (const key of [...this.followers.keys()]) if (key.startsWith(`${podKey}/`)) this.endFollowers(key);
  }

  private stop(key: string, lastPod: any): void {
    const run = this.runs.get(key);
    if (!run) return;
    run.stopped = true;
    for (const c of run.containers) this.clock.cancel(c.timer);
    this.runs.delete(key);
    this.extraLogs.delete(key);
    this.endPodFollowers(key);
    if (lastPod) {
      const running = run.containers.filter((c) => c.state?.running);
      if (running.length) {
        this.clock.after(0, () => {
          for (const c of running) {
            this.events.record(lastPod, {
              type: 'Normal',
              reason: 'Killing',
              message: `Stopping container ${c.name}`,
              component: 'kubelet',
              host: run.node,
              fieldPath: `spec.containers{${c.name}}`,
            });
          }
        });
      }
    }
  }

  private newRun(pod: any): PodRun {
    const node = this.store.get(NODE, undefined, pod.spec.nodeName);
    const hostIP: string = node?.status?.addresses?.find((a: any) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
    const n = this.ipCounter++;
    const third = Number(hostIP.split('.').pop() ?? 1) % 250;
    return {
      ns: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      node: pod.spec.nodeName,
      hostIP,
      podIP: `10.244.${third}.${(n % 250) + 2}`,
      startTime: nowTime(),
      readySince: nowTime(),
      wasReady: false,
      stopped: false,
      containers: (pod.spec.containers ?? []).map((c: any) => ({
        name: c.name,
        image: c.image,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        ready: false,
        started: false,
        everRan: false,
        restartCount: 0,
        backoffSteps: 0,
        current: [],
      })),
    };
  }

  private start(pod: any): void {
    const run = this.newRun(pod);
    this.runs.set(`${run.ns}/${run.name}`, run);
    this.flush(run);
    for (const c of run.containers) c.timer = this.clock.after(this.tick, () => this.begin(run, c));
  }

  /** Adopt a pod that was created directly with a status (no kubelet run yet), e.g. for oomKill. */
  private adopt(pod: any): PodRun {
    const run = this.newRun(pod);
    run.podIP = pod.status?.podIP ?? run.podIP;
    run.startTime = pod.status?.startTime ?? run.startTime;
    for (const c of run.containers) {
      const cs = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === c.name);
      c.restartCount = cs?.restartCount ?? 0;
      c.state = cs?.state ?? { running: { startedAt: nowTime() } };
      c.lastState = cs?.lastState ?? {};
      c.ready = cs?.ready ?? true;
      c.started = cs?.started ?? true;
      c.everRan = true;
      c.containerID = cs?.containerID ?? `containerd://${randomBytes(32).toString('hex')}`;
      c.startedAt = c.state?.running?.startedAt ?? nowTime();
      c.current = this.freshLines(this.opts.behaviorFor(c.image));
    }
    run.wasReady = run.containers.every((c) => c.ready);
    this.runs.set(`${run.ns}/${run.name}`, run);
    return run;
  }

  private pod(run: PodRun): any | undefined {
    if (run.stopped) return undefined;
    const pod = this.store.get(POD, run.ns, run.name);
    if (!pod || pod.metadata.uid !== run.uid) return undefined;
    return pod;
  }

  private event(run: PodRun, c: ContainerRun | undefined, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const pod = this.pod(run);
    if (!pod) return;
    this.events.record(pod, {
      type,
      reason,
      message,
      component: 'kubelet',
      host: run.node,
      ...(c ? { fieldPath: `spec.containers{${c.name}}` } : {}),
    });
  }

  private freshLines(b: PodBehavior): LogLine[] {
    const lines = ('logLines' in b && b.logLines) || DEFAULT_LINES[b.kind];
    const now = Date.now();
    return lines.map((text, i) => ({ t: now + i, ts: timestamp(now + i), text }));
  }

  private begin(run: PodRun, c: ContainerRun): void {
    if (run.stopped) return;
    const b = this.opts.behaviorFor(c.image);
    if (b.kind === 'imagePullFailure') {
      this.pullFailure(run, c, b);
      return;
    }
    const pod = this.pod(run);
    if (!pod) return;
    const spec = (pod.spec.containers ?? []).find((x: any) => x.name === c.name);
    if (spec?.imagePullPolicy === 'Always' || c.restartCount === 0) {
      if (spec?.imagePullPolicy === 'Always') {
        this.event(run, c, 'Normal', 'Pulling', `Pulling image "${c.image}"`);
        this.event(
          run,
          c,
          'Normal',
          'Pulled',
          `Successfully pulled image "${c.image}" in 812ms (812ms including waiting). Image size: 52428800 bytes.`,
        );
      } else {
        this.event(run, c, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`);
      }
    }
    this.startContainer(run, c, b);
  }

  private pullFailure(run: PodRun, c: ContainerRun, b: Extract<PodBehavior, { kind: 'imagePullFailure' }>): void {
    const ref = fullImageRef(c.image);
    const detail =
      b.message ??
      `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
    const msg = `Failed to pull image "${c.image}": ${detail}`;
    this.event(run, c, 'Normal', 'Pulling', `Pulling image "${c.image}"`);
    this.event(run, c, 'Warning', 'Failed', msg);
    this.event(run, c, 'Warning', 'Failed', 'Error: ErrImagePull');
    c.state = { waiting: { reason: 'ErrImagePull', message: msg } };
    c.ready = false;
    this.flush(run);
    c.timer = this.clock.after(this.tick * 3, () => {
      if (run.stopped) return;
      const backoffMsg = `Back-off pulling image "${c.image}"`;
      c.state = { waiting: { reason: 'ImagePullBackOff', message: backoffMsg } };
      this.event(run, c, 'Normal', 'BackOff', backoffMsg);
      this.event(run, c, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      this.flush(run);
      const delay = this.backoffMs(c.backoffSteps++);
      c.timer = this.clock.after(delay, () => this.begin(run, c));
    });
  }

  private startContainer(run: PodRun, c: ContainerRun, b: PodBehavior): void {
    if (run.stopped) return;
    const now = nowTime();
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    c.startedAt = now;
    c.state = { running: { startedAt: now } };
    c.started = true;
    c.everRan = true;
    c.ready = false;
    if (c.current.length) c.previous = c.current;
    this.endFollowers(`${run.ns}/${run.name}/${c.name}`);
    c.current = this.freshLines(b);
    this.event(run, c, 'Normal', 'Created', `Created container: ${c.name}`);
    this.event(run, c, 'Normal', 'Started', `Started container ${c.name}`);
    switch (b.kind) {
      case 'ready': {
        const after = c.restartCount === 0 ? (b.readyAfterMs ?? 30) : this.tick;
        c.timer = this.clock.after(after, () => this.becomeReady(run, c));
        break;
      }
      case 'slowReady':
        this.flush(run);
        c.timer = this.clock.after(b.readyAfterMs, () => this.becomeReady(run, c));
        break;
      case 'crashLoop':
        this.flush(run);
        c.timer = this.clock.after(this.tick * 5, () => this.crash(run, c, 'Error', b.exitCode ?? 1));
        break;
      case 'oomKilled':
        this.flush(run);
        c.timer = this.clock.after(this.tick * 5, () => this.crash(run, c, 'OOMKilled', 137));
        break;
      case 'imagePullFailure':
        break;
    }
  }

  private becomeReady(run: PodRun, c: ContainerRun): void {
    if (run.stopped) return;
    c.ready = true;
    c.backoffSteps = 0;
    this.flush(run);
  }

  /**
   * The container exits: terminated now, CrashLoopBackOff shortly after, restarted after back-off;
   * with `restartAfterMs`, restarted after that delay without a back-off (the kubelet's first restarts).
   */
  private crash(run: PodRun, c: ContainerRun, reason: string, exitCode: number, restartAfterMs?: number): void {
    if (run.stopped) return;
    this.clock.cancel(c.timer);
    this.endFollowers(`${run.ns}/${run.name}/${c.name}`);
    const terminated = {
      exitCode,
      reason,
      startedAt: c.startedAt ?? nowTime(),
      finishedAt: nowTime(),
      containerID: c.containerID,
    };
    c.state = { terminated };
    c.ready = false;
    c.started = false;
    this.flush(run);
    if (restartAfterMs !== undefined) {
      c.timer = this.clock.after(restartAfterMs, () => {
        if (run.stopped) return;
        c.lastState = { terminated };
        c.restartCount += 1;
        this.startContainer(run, c, this.opts.behaviorFor(c.image));
        this.flush(run);
      });
      return;
    }
    c.timer = this.clock.after(this.tick * 2, () => {
      if (run.stopped) return;
      const seconds = Math.min(10 * 2 ** c.backoffSteps, 300);
      c.lastState = { terminated };
      c.restartCount += 1;
      c.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(seconds)} restarting failed container=${c.name} pod=${run.name}_${run.ns}(${run.uid})`,
        },
      };
      this.event(run, c, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${run.name}_${run.ns}(${run.uid})`);
      this.flush(run);
      const delay = this.backoffMs(c.backoffSteps++);
      c.timer = this.clock.after(delay, () => {
        if (run.stopped) return;
        this.startContainer(run, c, this.opts.behaviorFor(c.image));
      });
    });
  }

  /**
   * OOM-kill a running container now (first MODIFIED is synchronous). By default it then backs off as
   * a crash loop; with `restartAfterMs` it is running again after that delay (as the kubelet does for
   * a container that ran a while), ready a tick later; then a container that is not running is not
   * killed, and false says so.
   */
  oomKill(ns: string, name: string, container?: string, opts: { restartAfterMs?: number } = {}): boolean {
    const key = `${ns}/${name}`;
    let run = this.runs.get(key);
    const pod = this.store.get(POD, ns, name);
    if (!pod) throw new Error(`kube emulator: pod ${key} not found`);
    if (!run) run = this.adopt(pod);
    const c = container ? run.containers.find((x) => x.name === container) : run.containers[0];
    if (!c) throw new Error(`kube emulator: container ${container} not found in pod ${key}`);
    // The kernel kills a process, not a container that is not running: false, and nothing changes.
    if (opts.restartAfterMs !== undefined && !c.state?.running) return false;
    this.crash(run, c, 'OOMKilled', 137, opts.restartAfterMs);
    return true;
  }

  /**
   * Evict a pod as the kubelet does under node pressure: its containers are killed (exit 137), the pod
   * goes Failed with reason Evicted and the kubelet's message, DisruptionTarget True, a Warning
   * `Evicted` event. The pod object stays (its controller makes a replacement; failed pods do not count).
   */
  evict(ns: string, name: string, message: string): any {
    const key = `${ns}/${name}`;
    const pod = this.store.get(POD, ns, name);
    if (!pod) throw new Error(`kube emulator: pod ${key} not found`);
    if (!pod.spec?.nodeName || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded')
      throw new Error(`kube emulator: pod ${key} is not running on a node`);
    const run = this.runs.get(key) ?? this.adopt(pod);
    this.stop(key, pod);
    const at = nowTime();
    const status = {
      ...pod.status,
      phase: 'Failed',
      reason: 'Evicted',
      message,
      conditions: [
        ...(pod.status?.conditions ?? []).map((c: any) =>
          c.type === 'Ready' || c.type === 'ContainersReady'
            ? { ...c, status: 'False', reason: 'PodFailed', message: undefined, lastTransitionTime: at }
            : c,
        ),
        { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastProbeTime: null, lastTransitionTime: at },
      ],
      containerStatuses: run.containers.map((c) => ({
        name: c.name,
        state: { terminated: { exitCode: 137, reason: 'Error', startedAt: c.startedAt ?? at, finishedAt: at } },
        lastState: c.lastState,
        ready: false,
        restartCount: c.restartCount,
        image: c.image,
        imageID: '',
        ...(c.containerID ? { containerID: c.containerID } : {}),
        started: false,
      })),
    };
    const updated = this.store.update(POD, { ...pod, metadata: { ...pod.metadata }, status });
    this.events.record(updated, { type: 'Warning', reason: 'Evicted', message, component: 'kubelet', host: pod.spec.nodeName });
    return updated;
  }

  appendLogs(ns: string, name: string, lines: string[], container?: string, at?: number): void {
    const key = `${ns}/${name}`;
    const now = at ?? Date.now();
    const entries = lines.map((text, i) => ({ t: now + i, ts: timestamp(now + i), text }));
    const run = this.runs.get(key);
    const c = run && (container ? run.containers.find((x) => x.name === container) : run.containers[0]);
    if (c) c.current.push(...entries);
    else {
      const k = `${key}/${container ?? ''}`;
      this.extraLogs.set(k, [...(this.extraLogs.get(k) ?? []), ...entries]);
    }
    const followed = this.followers.get(`${key}/${c?.name ?? container ?? ''}`);
    for (const f of followed ?? []) f.write(entries.map((e) => `${e.text}\n`).join(''));
  }

  /**
   * GET pods/{name}/log?follow=true: what a plain read returns (same checks, tailLines,
   * sinceSeconds), then every new line until the container stops or the pod goes.
   * Returns the first text and how to stop following (the client went away).
   */
  followPodLogs(pod: any, q: URLSearchParams, follower: LogFollower): { text: string; unfollow(): void } {
    if (q.get('previous') === 'true') return { text: this.podLogs(pod, q), unfollow: () => undefined };
    const text = this.podLogs(pod, q);
    const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    const key = `${pod.metadata.namespace}/${pod.metadata.name}/${q.get('container') || names[0]}`;
    const set = this.followers.get(key) ?? new Set<LogFollower>();
    set.add(follower);
    this.followers.set(key, set);
    return {
      text,
      unfollow: () => {
        set.delete(follower);
        if (set.size === 0 && this.followers.get(key) === set) this.followers.delete(key);
      },
    };
  }

  /** GET pods/{name}/log */
  podLogs(pod: any, q: URLSearchParams): string {
    const name: string = pod.metadata.name;
    const ns: string = pod.metadata.namespace;
    const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: any) => c.name);
    let cname = q.get('container') ?? '';
    if (!cname) {
      if (names.length !== 1) {
        throw new ApiError(
          400,
          'BadRequest',
          `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]${initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : ''}`,
        );
      }
      cname = names[0]!;
    }
    if (!names.includes(cname) && !initNames.includes(cname)) {
      throw new ApiError(400, 'BadRequest', `container ${cname} is not valid for pod ${name}`);
    }
    const previous = q.get('previous') === 'true';
    const run = this.runs.get(`${ns}/${name}`);
    const c = run?.containers.find((x) => x.name === cname);
    let lines: LogLine[];
    if (c) {
      if (previous) {
        if (!c.previous) throw new ApiError(400, 'BadRequest', `previous terminated container "${cname}" in pod "${name}" not found`);
        lines = c.previous;
      } else {
        if (!c.everRan) {
          const reason: string = c.state?.waiting?.reason ?? 'ContainerCreating';
          const why = reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
          throw new ApiError(400, 'BadRequest', `container "${cname}" in pod "${name}" is waiting to start: ${why}`);
        }
        lines = c.current;
      }
    } else {
      if (!pod.spec?.nodeName || (pod.status?.phase ?? 'Pending') === 'Pending') {
        throw new ApiError(400, 'BadRequest', `container "${cname}" in pod "${name}" is waiting to start: ContainerCreating`);
      }
      const extra = this.extraLogs.get(`${ns}/${name}/${cname}`) ?? this.extraLogs.get(`${ns}/${name}/`);
      if (previous) {
        const cs = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === cname);
        if (!cs?.lastState?.terminated)
          throw new ApiError(400, 'BadRequest', `previous terminated container "${cname}" in pod "${name}" not found`);
      }
      const img = (pod.spec.containers ?? []).find((x: any) => x.name === cname)?.image ?? '';
      lines = [...this.freshLines(this.opts.behaviorFor(img)), ...(extra ?? [])];
    }
    const since = q.get('sinceSeconds');
    if (since) {
      const cutoff = Date.now() - Number(since) * 1000;
      lines = lines.filter((l) => l.t >= cutoff);
    }
    const tail = q.get('tailLines');
    if (tail !== null && tail !== '') {
      const n = Number(tail);
      if (Number.isFinite(n) && n >= 0) lines = n === 0 ? [] : lines.slice(-n);
    }
    const withTs = q.get('timestamps') === 'true';
    let text = lines.map((l) => (withTs ? `${l.ts} ${l.text}` : l.text)).join('\n');
    if (text) text += '\n';
    const limit = Number(q.get('limitBytes') ?? 0);
    if (limit > 0) text = Buffer.from(text).subarray(0, limit).toString('utf8');
    return text;
  }

  private flush(run: PodRun): void {
    const pod = this.pod(run);
    if (!pod) return;
    const now = nowTime();
    const allReady = run.containers.every((c) => c.ready);
    if (allReady !== run.wasReady) {
      run.wasReady = allReady;
      run.readySince = now;
    }
    const unready = run.containers.filter((c) => !c.ready).map((c) => c.name);
    const readyCond = (type: string): any => ({
      type,
      status: allReady ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: run.readySince,
      ...(allReady ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }),
    });
    const phase = run.containers.every((c) => c.everRan) ? 'Running' : 'Pending';
    const status: any = {
      phase,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
        readyCond('Ready'),
        readyCond('ContainersReady'),
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
      ],
      hostIP: run.hostIP,
      hostIPs: [{ ip: run.hostIP }],
      podIP: run.podIP,
      podIPs: [{ ip: run.podIP }],
      startTime: run.startTime,
      containerStatuses: run.containers.map((c) => ({
        name: c.name,
        state: c.state,
        lastState: c.lastState,
        ready: c.ready,
        restartCount: c.restartCount,
        image: c.image,
        imageID: c.everRan ? `${fullImageRef(c.image).replace(/:[^:/]+$/, '')}@sha256:${'0'.repeat(64)}` : '',
        ...(c.containerID ? { containerID: c.containerID } : {}),
        started: c.started,
      })),
      qosClass: pod.status?.qosClass ?? qosClass(pod.spec),
    };
    if (pod.spec?.initContainers?.length) {
      status.initContainerStatuses = pod.spec.initContainers.map((ic: any) => ({
        name: ic.name,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: run.startTime, finishedAt: run.startTime } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: ic.image,
        imageID: '',
        started: false,
      }));
    }
    this.store.update(POD, { ...pod, metadata: { ...pod.metadata }, status });
  }
}
