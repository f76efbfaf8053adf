/**
 * Writes that can be dry runs. Every write helper in src/kube takes
 * `{ dryRun?: DryRun }`: without it the write happens; with it the helper reads
 * the live object, sends the very same request with `dryRun=All` (the API
 * server validates, defaults and runs admission, and stores nothing), records
 * live vs. answer in the recorder, and returns the answer as if it had written.
 * So a verb computes its diff through the code path of the real change.
 */
import { diffChanges, mergeChanges, type Diff, type DiffOptions, type ObjectChange } from './diff.js';

/** Collects what a command's writes would change instead of making them. */
export class DryRun {
  private readonly recorded: ObjectChange[] = [];

  record(change: ObjectChange): void {
    this.recorded.push(change);
  }

  /** One change per object, in the order first written. */
  get changes(): ObjectChange[] {
    return mergeChanges(this.recorded);
  }

  diff(opts: DiffOptions = {}): Diff {
    return diffChanges(this.changes, opts);
  }
}

export interface WriteOptions {
  /** Set: send the write as a server-side dry run and record it here; nothing is written. */
  dryRun?: DryRun;
}

/** The value of client-node's `dryRun` parameter for these options. */
export const dryRunParam = (opts: WriteOptions | undefined): { dryRun?: 'All' } => (opts?.dryRun ? { dryRun: 'All' } : {});

export interface WriteTarget {
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * Runs `send` — for real, or (with `opts.dryRun`) as a dry run recorded against
 * what `readLive` returns (undefined: absent). `asObject` turns the answer into
 * the object it stands for, when the answer is another kind (a Scale for a
 * Deployment's replicas); default: the answer itself. A delete records no `after`.
 */
export async function write<T>(
  opts: WriteOptions | undefined,
  target: WriteTarget,
  readLive: () => Promise<unknown>,
  send: (dryRun: { dryRun?: 'All' }) => Promise<T>,
  asObject?: (answer: T, live: unknown) => unknown,
): Promise<T> {
  const recorder = opts?.dryRun;
  if (!recorder) return send({});
  const live = await readLive();
  const answer = await send({ dryRun: 'All' });
  recorder.record({ ...target, before: live, after: asObject ? asObject(answer, live) : answer });
  return answer;
}

/** A delete as a dry run: the live object goes, nothing comes. */
export async function remove<T>(
  opts: WriteOptions | undefined,
  target: WriteTarget,
  live: unknown,
  send: (dryRun: { dryRun?: 'All' }) => Promise<T>,
): Promise<T> {
  const recorder = opts?.dryRun;
  if (!recorder) return send({});
  const answer = await send({ dryRun: 'All' });
  recorder.record({ ...target, before: live, after: undefined });
  return answer;
}
