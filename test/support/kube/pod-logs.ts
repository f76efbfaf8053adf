/** Pod logs as the kubelet serves them: a read with its refusals and cuts, and the followers of a container's stream. */
import { freshLines, type LogFollower, type LogLine, type PodBehavior, type PodRun } from './pod-runs.js';
import { ApiError } from './status.js';

/**
 * GET pods/{name}/log: the kubelet's refusals (no container named, not valid, waiting to start, no previous
 * container) and the query's cuts (sinceSeconds, tailLines, timestamps, limitBytes). `run` is the kubelet's run
 * of the pod, if any; `extraLines` the lines appended to a pod it does not run.
 */
export function readPodLogs(
  pod: any,
  q: URLSearchParams,
  run: PodRun | undefined,
  extraLines: (key: string) => LogLine[] | undefined,
  behaviorFor: (image: string) => PodBehavior,
): string {
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
    const extra = extraLines(`${ns}/${name}/${cname}`) ?? extraLines(`${ns}/${name}/`);
    if (previous) {
      const cs = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === cname);
      if (!cs?.lastState?.terminated)
        throw new ApiError(400, 'BadRequest', `previous terminated container "${cname}" in pod "${name}" not found`);
    }
    const img = (pod.spec.containers ?? []).find((x: any) => x.name === cname)?.image ?? '';
    lines = [...freshLines(behaviorFor(img)), ...(extra ?? [])];
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

/** Open `follow=true` streams by `ns/pod/container`: like the kubelet's, one ends when its container stops or its pod goes. */
export class LogFollowers {
  private readonly byKey = new Map<string, Set<LogFollower>>();

  add(key: string, follower: LogFollower): () => void {
    const set = this.byKey.get(key) ?? new Set<LogFollower>();
    set.add(follower);
    this.byKey.set(key, set);
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  write(key: string, text: string): void {
    for (const f of this.byKey.get(key) ?? []) f.write(text);
  }

  end(key: string): void {
    const set = this.byKey.get(key);
    this.byKey.delete(key);
    for (const f of set ?? []) f.end();
  }

  endPod(podKey: string): void {
    for (const key of [...this.byKey.keys()]) if (key.startsWith(`${podKey}/`)) this.end(key);
  }

  endAll(): void {
    for (const key of [...this.byKey.keys()]) this.end(key);
  }
}
