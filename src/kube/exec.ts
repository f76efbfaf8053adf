/**
 * One-shot commands in a pod through the `exec` subresource (client-node's Exec
 * over WebSocket): argv only, never a shell line, output capped, a deadline.
 */
import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import { conflict } from '../errors/index.js';
import type { ClusterClient } from './clusters.js';

/** Output kept per stream; the rest is counted, not kept. */
export const MAX_EXEC_OUTPUT_BYTES = 512 * 1024;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** undefined when the deadline passed first. */
  exitCode?: number;
  timedOut: boolean;
  /** Bytes dropped past MAX_EXEC_OUTPUT_BYTES. */
  droppedBytes: number;
}

/** The exit code a Status from the status channel carries (0 on Success). */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

class CappedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const room = MAX_EXEC_OUTPUT_BYTES - this.size;
    if (room > 0) {
      const kept = chunk.subarray(0, room);
      this.chunks.push(kept);
      this.size += kept.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export async function execInPod(
  cluster: ClusterClient,
  namespace: string,
  pod: string,
  container: string,
  command: readonly string[],
  timeoutMs: number,
): Promise<ExecResult> {
  const stdout = new CappedSink();
  const stderr = new CappedSink();
  const result = (exitCode: number | undefined, timedOut: boolean): ExecResult => ({
    stdout: stdout.text(),
    stderr: stderr.text(),
    ...(exitCode === undefined ? {} : { exitCode }),
    timedOut,
    droppedBytes: stdout.dropped + stderr.dropped,
  });
  return new Promise<ExecResult>((resolve, reject) => {
    let socket: { close(): void } | undefined;
    const timer = setTimeout(() => {
      socket?.close();
      resolve(result(undefined, true));
    }, timeoutMs);
    new Exec(cluster.kubeConfig)
      .exec(namespace, pod, container, [...command], stdout, stderr, null, false, (status) => {
        clearTimeout(timer);
        resolve(result(exitCodeOf(status), false));
      })
      .then((ws) => {
        socket = ws;
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(
          conflict(
            `Could not start the command in pod ${pod} (namespace ${namespace}): ${err instanceof Error ? err.message : String(err)}. Is the pod running, and may the bot use pods/exec (\`npm run check\`)?`,
            err,
          ),
        );
      });
  });
}
