/**
 * Following a container's log as it is written (`kubectl logs -f`): client-node's Log
 * streams `follow=true`; we cut the bytes into lines, bound each line and the stream,
 * and say when the stream ends (the container stopped, the pod went, the limit was hit).
 */
import { Writable } from 'node:stream';
import { Log } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { kubeStatusCode } from './errors.js';
import { MAX_LINE_LENGTH } from './logs.js';

/** One stream never carries more than this; a chat tail is not a log shipper. */
export const MAX_FOLLOW_BYTES_PER_STREAM = 8 * 1024 * 1024;

export interface FollowTarget {
  pod: string;
  container: string;
}

export interface FollowOptions {
  /** Lines already written to show first (the API's tailLines). */
  tailLines?: number;
  /** Only lines written in the last this many seconds (a stream re-opened after its container restarted). */
  sinceSeconds?: number;
}

export interface FollowHandlers {
  line(text: string): void;
  /** The stream ended by itself (not by `stop`); `cut` when the byte limit ended it. */
  end(info: { cut: boolean }): void;
}

/** Splits chunks into lines, keeping a partial last line for the next chunk; overlong lines are cut. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE_LENGTH * 2) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const p of parts) this.emit(cutLine(p.replace(/\r$/, '')));
  }

  flush(): void {
    if (this.partial) this.emit(cutLine(this.partial));
    this.partial = '';
  }
}

function cutLine(line: string): string {
  return line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH)}… [line cut at ${MAX_LINE_LENGTH} characters]` : line;
}

export type FollowStart = { ok: true; stop: () => void } | { ok: false; status: number | undefined };

/**
 * Opens a followed stream. A refusal the caller can wait out (a container not started
 * yet answers 400, a pod already gone 404) comes back as `{ ok: false }`, not thrown.
 */
export async function followContainerLog(
  cluster: ClusterClient,
  namespace: string,
  target: FollowTarget,
  opts: FollowOptions,
  on: FollowHandlers,
): Promise<FollowStart> {
  let bytes = 0;
  let cut = false;
  let stopped = false;
  let controller: AbortController | undefined;
  const splitter = new LineSplitter((l) => {
    if (!stopped) on.line(l);
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      splitter.push(chunk.toString('utf8'));
      if (bytes >= MAX_FOLLOW_BYTES_PER_STREAM && !cut) {
        cut = true;
        controller?.abort();
        finish();
      }
      done();
    },
    final(done) {
      finish();
      done();
    },
  });
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    splitter.flush();
    if (!stopped) on.end({ cut });
  };
  // An aborted fetch errors the piped response; the end is already said (or not wanted).
  sink.on('error', finish);
  try {
    controller = await new Log(cluster.kubeConfig).log(namespace, target.pod, target.container, sink, {
      follow: true,
      limitBytes: MAX_FOLLOW_BYTES_PER_STREAM,
      ...(opts.tailLines !== undefined ? { tailLines: opts.tailLines } : {}),
      ...(opts.sinceSeconds ? { sinceSeconds: opts.sinceSeconds } : {}),
    });
  } catch (err) {
    return { ok: false, status: kubeStatusCode(err) };
  }
  return {
    ok: true,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}
