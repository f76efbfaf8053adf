/** Pod lifecycle on a node: image pulls, container starts, readiness, crashes, OOM kills, back-off, logs. */
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { EventRecorder } from './events.js';
import { LogFollowers, readPodLogs } from './pod-logs.js';
import {
  freshLines,
  newPodRun,
  fullImageRef,
  goDuration,
  timestamp,
  type ContainerRun,
  type LogFollower,
  type LogLine,
  type PodBehavior,
  type PodRun,
} from './pod-runs.js';
import { evictedStatus, runStatus } from './pod-status.js';
import { mustResource } from './resources.js';
import { nowTime, type Store, type StoreEvent } from './store.js';

const POD = mustResource('v1', 'Pod');
const NODE = mustResource('v1', 'Node');

export interface KubeletOptions {
  tickMs: number;
  behaviorFor(image: string): PodBehavior;
}

export class Kubelet {
  private readonly runs = new Map<string, PodRun>();
  private readonly extraLogs = new Map<string, LogLine[]>();
  private readonly followers = new LogFollowers();
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
    this.followers.endAll();
  }

  private stop(key: string, lastPod: any): void {
    const run = this.runs.get(key);
    if (!run) return;
    run.stopped = true;
    for (const c of run.containers) this.clock.cancel(c.timer);
    this.runs.delete(key);
    this.extraLogs.delete(key);
    this.followers.endPod(key);
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
    return newPodRun(pod, hostIP, this.ipCounter++);
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
      c.current = freshLines(this.opts.behaviorFor(c.image));
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
    this.followers.end(`${run.ns}/${run.name}/${c.name}`);
    c.current = freshLines(b);
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
    this.followers.end(`${run.ns}/${run.name}/${c.name}`);
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
    const updated = this.store.update(POD, { ...pod, metadata: { ...pod.metadata }, status: evictedStatus(pod, run, message) });
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
    this.followers.write(`${key}/${c?.name ?? container ?? ''}`, entries.map((e) => `${e.text}\n`).join(''));
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
    return { text, unfollow: this.followers.add(key, follower) };
  }

  /** GET pods/{name}/log */
  podLogs(pod: any, q: URLSearchParams): string {
    const run = this.runs.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    return readPodLogs(
      pod,
      q,
      run,
      (key) => this.extraLogs.get(key),
      (image) => this.opts.behaviorFor(image),
    );
  }

  private flush(run: PodRun): void {
    const pod = this.pod(run);
    if (!pod) return;
    this.store.update(POD, { ...pod, metadata: { ...pod.metadata }, status: runStatus(run, pod) });
  }
}
