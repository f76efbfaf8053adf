/**
 * Reading the recent log lines of an app's pods. Which containers to read and
 * how lines are labelled are pure functions; `readLogStreams` does the API calls.
 * Log text is data: it is split into lines and shown, never interpreted or run.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { badInput, notFound, type ChatOpsError } from '../errors/index.js';
import type { ClusterClient } from './clusters.js';
import { fromKubeError, kubeStatusCode } from './errors.js';

export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 5_000;
/** Pods read at most per command; more is not a chat answer (narrow with --pod). */
export const MAX_LOG_PODS = 20;
/** Per container: enough for MAX_LOG_LINES of ordinary lines; a longer tail is cut at its start. */
export const MAX_LOG_BYTES_PER_STREAM = 4 * 1024 * 1024;
/** A single line longer than this is cut (a minified JSON blob, a base64 dump). */
export const MAX_LINE_LENGTH = 2_000;
const CONCURRENCY = 4;

export interface LogOptions {
  lines: number;
  previous: boolean;
  /** Only lines written in the last this many seconds (the API's sinceSeconds). */
  sinceSeconds?: number;
  pod?: string;
  container?: string;
}

export interface LogTarget {
  pod: string;
  container: string;
  /** Set when nothing is read, e.g. `--previous` on a container that never restarted. */
  skip?: string;
}

export interface LogStream {
  pod: string;
  container: string;
  lines: string[];
  /** Why there are no lines (container waiting, no previous instance, …). */
  note?: string;
  /** The stream hit MAX_LOG_BYTES_PER_STREAM; its oldest lines are missing. */
  cut?: boolean;
}

const byName = (a: V1Pod, b: V1Pod) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

/** A previous (terminated) instance of the container exists. */
function hasPrevious(pod: V1Pod, container: string): boolean {
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
  return Boolean(status?.lastState?.terminated) || (status?.restartCount ?? 0) > 0;
}

/**
 * Which (pod, container) pairs to read. `--pod` must be one of the app's pods
 * (checked here, never trusted); `--container` must exist in each chosen pod.
 */
export function selectLogTargets(
  app: string,
  namespace: string,
  pods: readonly V1Pod[],
  opts: Pick<LogOptions, 'pod' | 'container' | 'previous'>,
): { targets: LogTarget[]; omittedPods: number } {
  if (pods.length === 0) {
    throw notFound(`No pods of ${app} in namespace ${namespace} — has it been deployed? Try \`/k8s status ${app} &lt;env&gt;\`.`);
  }
  let chosen = [...pods].sort(byName);
  if (opts.pod) {
    const pod = chosen.find((p) => p.metadata?.name === opts.pod);
    if (!pod) {
      const names = chosen
        .slice(0, 10)
        .map((p) => `\`${p.metadata?.name ?? '?'}\``)
        .join(', ');
      throw notFound(
        `Pod \`${opts.pod}\` is not a pod of ${app} in namespace ${namespace}. Its pods: ${names}${chosen.length > 10 ? ', …' : ''}.`,
      );
    }
    chosen = [pod];
  }
  const omittedPods = Math.max(0, chosen.length - MAX_LOG_PODS);
  chosen = chosen.slice(0, MAX_LOG_PODS);
  const targets: LogTarget[] = [];
  for (const pod of chosen) {
    const name = pod.metadata?.name ?? '?';
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
    let names = containers;
    if (opts.container) {
      if (!containers.includes(opts.container) && !inits.includes(opts.container)) {
        throw badInput(
          `Pod \`${name}\` has no container \`${opts.container}\`; its containers: ${[...containers, ...inits].map((c) => `\`${c}\``).join(', ')}.`,
        );
      }
      names = [opts.container];
    }
    for (const container of names) {
      const skip =
        opts.previous && !hasPrevious(pod, container)
          ? `no previous container for pod ${name}${names.length > 1 ? ` (container ${container})` : ''}: it has not restarted`
          : undefined;
      targets.push({ pod: name, container, ...(skip ? { skip } : {}) });
    }
  }
  return { targets, omittedPods };
}

/** Splits log text into lines, cutting overlong ones; `tail` keeps only the last lines. */
export function splitLogLines(text: string, tail: number): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines
    .slice(-tail)
    .map((l) =>
      l.length > MAX_LINE_LENGTH ? `${l.slice(0, MAX_LINE_LENGTH)}… [line cut at ${MAX_LINE_LENGTH} characters]` : l.replace(/\r$/, ''),
    );
}

async function readStream(cluster: ClusterClient, namespace: string, target: LogTarget, opts: LogOptions): Promise<LogStream> {
  const base = { pod: target.pod, container: target.container };
  if (target.skip) return { ...base, lines: [], note: target.skip };
  try {
    const text = String(
      await cluster.core.readNamespacedPodLog({
        name: target.pod,
        namespace,
        container: target.container,
        tailLines: opts.lines,
        previous: opts.previous,
        limitBytes: MAX_LOG_BYTES_PER_STREAM,
        ...(opts.sinceSeconds ? { sinceSeconds: opts.sinceSeconds } : {}),
      }),
    );
    const cut = Buffer.byteLength(text) >= MAX_LOG_BYTES_PER_STREAM;
    return { ...base, lines: splitLogLines(text, opts.lines), ...(cut ? { cut } : {}) };
  } catch (err) {
    const code = kubeStatusCode(err);
    if (opts.previous && (code === 400 || code === 404)) return { ...base, lines: [], note: `no previous container for pod ${target.pod}` };
    if (code === 400) {
      // The API server says why in its own words (e.g. "container … is waiting to start: ContainerCreating").
      return { ...base, lines: [], note: apiMessage(err) ?? 'the API server has no logs for it' };
    }
    if (code === 404) return { ...base, lines: [], note: `pod ${target.pod} is gone` };
    throw fromKubeError(err, `logs of pod ${target.pod} in namespace ${namespace}`);
  }
}

function apiMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown }).body;
  try {
    const parsed = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string } | undefined);
    return parsed?.message?.slice(0, 300);
  } catch {
    return typeof body === 'string' ? body.slice(0, 300) : undefined;
  }
}

/** Reads the targets a few at a time, in the targets' order. A failure that is not about one pod fails the whole. */
export async function readLogStreams(
  cluster: ClusterClient,
  namespace: string,
  targets: readonly LogTarget[],
  opts: LogOptions,
): Promise<LogStream[]> {
  const out = new Array<LogStream>(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      out[i] = await readStream(cluster, namespace, targets[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  return out;
}

/** Every line prefixed `[pod/container]`, streams in order; a stream without lines says why in one line. */
export function labelLogLines(streams: readonly LogStream[]): string[] {
  const out: string[] = [];
  for (const s of streams) {
    const label = `[${s.pod}/${s.container}]`;
    if (s.cut) out.push(`${label} (older lines cut: more than ${MAX_LOG_BYTES_PER_STREAM / 1024 / 1024} MiB)`);
    if (s.lines.length === 0) out.push(`${label} (${s.note ?? 'no log lines'})`);
    for (const line of s.lines) out.push(`${label} ${line}`);
  }
  return out;
}

/** When `--pod` names one pod and it yields nothing, that is the answer, not an empty file. */
export function singleStreamProblem(streams: readonly LogStream[]): ChatOpsError | undefined {
  if (streams.length !== 1) return undefined;
  const only = streams[0]!;
  return only.lines.length === 0 && only.note ? notFound(`${only.note.charAt(0).toUpperCase()}${only.note.slice(1)}.`) : undefined;
}
