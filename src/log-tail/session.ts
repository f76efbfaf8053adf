/**
 * A live tail of an app's pods: one followed stream per running container, new
 * pods (and restarted containers) picked up as they appear, lines labelled by pod,
 * until a deadline, a Stop or a cancelled job. Knows nothing of Slack: it reports
 * snapshots at most once a tick and returns everything it kept.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { denied } from '../errors/index.js';
import type { ClusterClient } from '../kube/clusters.js';
import { followContainerLog, type FollowStart } from '../kube/log-follow.js';
import { MAX_LOG_PODS } from '../kube/logs.js';
import type { Logger } from '../log.js';

/** Lines kept for the file at the end; older ones are dropped and counted. */
export const MAX_KEPT_LINES = 50_000;
/** Lines of each container's past shown when its stream opens, so the tail starts with context. */
export const INITIAL_LINES = 10;
const TICK_MS = 1_000;

export type TailEnd = 'deadline' | 'stopped' | 'cancelled';

export interface TailSnapshot {
  /** Kept lines, oldest first, each `[pod/container] text`. */
  lines: readonly string[];
  /** Lines seen in all, kept or dropped. */
  total: number;
  dropped: number;
  /** Pods with a stream opened at some point. */
  pods: readonly string[];
}

export interface TailOptions {
  cluster: ClusterClient;
  namespace: string;
  /** The app's pods now (its workload's selector). */
  listPods: () => Promise<V1Pod[]>;
  pod?: string;
  container?: string;
  /** Only lines it accepts are kept (`--grep`). */
  match?: (line: string) => boolean;
  durationMs: number;
  shouldStop(): Promise<boolean>;
  signal: AbortSignal;
  /** Called at most once a tick, only when lines arrived; a failure is logged and the tail goes on. */
  onUpdate(snapshot: TailSnapshot): Promise<void>;
  log: Logger;
  tickMs?: number;
}

type StreamState = { state: 'open'; stop(): void } | { state: 'ended'; at: number } | { state: 'opening' };

function runningContainers(pod: V1Pod, only: string | undefined): string[] {
  if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) return [];
  return (pod.status.containerStatuses ?? []).filter((s) => s.state?.running && (!only || s.name === only)).map((s) => s.name);
}

export async function runLogTail(o: TailOptions): Promise<{ end: TailEnd; snapshot: TailSnapshot }> {
  const tickMs = o.tickMs ?? TICK_MS;
  const streams = new Map<string, StreamState>();
  const lines: string[] = [];
  const pods = new Set<string>();
  let total = 0;
  let dropped = 0;
  let changed = false;
  const snapshot = (): TailSnapshot => ({ lines, total, dropped, pods: [...pods] });

  const keep = (label: string, text: string) => {
    if (o.match && !o.match(text)) return;
    total++;
    lines.push(`${label} ${text}`);
    if (lines.length > MAX_KEPT_LINES) {
      lines.shift();
      dropped++;
    }
    changed = true;
  };

  const open = async (pod: string, container: string): Promise<void> => {
    const key = `${pod}/${container}`;
    const before = streams.get(key);
    streams.set(key, { state: 'opening' });
    // A re-opened stream (the container restarted) starts where the old one ended.
    const opts =
      before?.state === 'ended' ? { sinceSeconds: Math.max(1, Math.ceil((Date.now() - before.at) / 1_000)) } : { tailLines: INITIAL_LINES };
    const started: FollowStart = await followContainerLog(o.cluster, o.namespace, { pod, container }, opts, {
      line: (text) => keep(`[${key}]`, text),
      end: ({ cut }) => {
        if (cut) keep(`[${key}]`, '(this stream reached its size limit; later lines of it are not followed)');
        streams.set(key, { state: 'ended', at: cut ? Number.POSITIVE_INFINITY : Date.now() });
      },
    });
    if (started.ok) {
      if (streams.get(key)?.state === 'opening') streams.set(key, { state: 'open', stop: started.stop });
      else started.stop();
      pods.add(pod);
      return;
    }
    if (started.status === 401 || started.status === 403) {
      throw denied("The bot may not read this app's logs (it needs `get` on `pods/log` in this namespace). Ask ops to check its RBAC.");
    }
    // Not startable yet (400) or gone (404): tried again at the next refresh.
    if (before) streams.set(key, before);
    else streams.delete(key);
  };

  const refresh = async () => {
    let current = await o.listPods();
    if (o.pod) current = current.filter((p) => p.metadata?.name === o.pod);
    current = current.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')).slice(0, MAX_LOG_PODS);
    const wanted: Array<[string, string]> = [];
    for (const p of current) for (const c of runningContainers(p, o.container)) wanted.push([p.metadata?.name ?? '', c]);
    await Promise.all(
      wanted
        .filter(([p, c]) => {
          const s = streams.get(`${p}/${c}`);
          return !s || (s.state === 'ended' && Number.isFinite(s.at));
        })
        .map(([p, c]) => open(p, c)),
    );
  };

  const waitTick = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, tickMs);
      function done() {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', done);
        resolve();
      }
      o.signal.addEventListener('abort', done, { once: true });
    });

  const deadline = Date.now() + o.durationMs;
  let end: TailEnd | undefined;
  try {
    await refresh();
    for (let tick = 1; ; tick++) {
      await waitTick();
      if (o.signal.aborted) end = 'cancelled';
      else if (await o.shouldStop()) end = 'stopped';
      else if (Date.now() >= deadline) end = 'deadline';
      if (end) break;
      // New pods and restarted containers, every other tick: a list is cheap, a watch per tail is not needed.
      if (tick % 2 === 0) await refresh().catch((err: unknown) => o.log.warn({ err }, 'live tail: could not list pods'));
      if (changed) {
        changed = false;
        await o.onUpdate(snapshot()).catch((err: unknown) => o.log.warn({ err }, 'live tail: could not update the message'));
      }
    }
  } finally {
    for (const s of streams.values()) if (s.state === 'open') s.stop();
  }
  return { end, snapshot: snapshot() };
}
