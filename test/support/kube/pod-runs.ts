/** What the kubelet keeps per pod and container, the behaviours a test gives an image, and their default log lines. */
import { nowTime } from './store.js';

export type PodBehavior =
  | { kind: 'ready'; readyAfterMs?: number }
  | { kind: 'imagePullFailure'; message?: string }
  | { kind: 'crashLoop'; exitCode?: number; logLines?: string[] }
  | { kind: 'oomKilled'; logLines?: string[] }
  | { kind: 'slowReady'; readyAfterMs: number };

export interface LogLine {
  t: number;
  ts: string;
  text: string;
}

export interface ContainerRun {
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

export interface PodRun {
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

export function timestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}Z`;
}

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s */
export function goDuration(seconds: number): string {
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

export function freshLines(b: PodBehavior): LogLine[] {
  const lines = ('logLines' in b && b.logLines) || DEFAULT_LINES[b.kind];
  const now = Date.now();
  return lines.map((text, i) => ({ t: now + i, ts: timestamp(now + i), text }));
}

/** A run for a pod just bound to a node: containers creating, an IP from the node's range (`n`: how many pods came before). */
export function newPodRun(pod: any, hostIP: string, n: number): PodRun {
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
