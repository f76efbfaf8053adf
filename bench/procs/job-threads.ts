/** What the Slack emulator saw of each job's thread, for the multi-process benches' exactly-once and lock checks. */
import type { SlackCall } from '../../test/support/slack/index.js';

type Call = Pick<SlackCall, 'method' | 'args' | 'at' | 'ok' | 'response'>;

/** The ✅ headline of a job of `verb` (an update of its thread's top message). */
export const isFinal = (c: Pick<Call, 'method' | 'args'>, verb: string): boolean =>
  c.method === 'chat.update' && new RegExp(`^:white_check_mark: ${verb} .* — done`).test(String(c.args.text));

export interface JobThreads {
  /**
   * Per thread ts: its ✅ updates. A copy of a job whose worker died while sending it sends the same headline
   * again: the same message, unchanged for the reader, so one distinct text is one ✅.
   */
  finals: Map<string, { texts: Set<string>; first: number; count: number }>;
  /**
   * Per thread ts: when its `:rocket:` start posts were answered (top level, or in the thread the job waited in or
   * was resumed in). A start post and the first ✅ are both sent while the job holds its target lock.
   */
  starts: Map<string, number[]>;
}

export function jobThreads(calls: readonly Call[], verb: string): JobThreads {
  const finals: JobThreads['finals'] = new Map();
  for (const c of calls.filter((c) => isFinal(c, verb))) {
    const f = finals.get(String(c.args.ts)) ?? { texts: new Set<string>(), first: c.at, count: 0 };
    f.texts.add(String(c.args.text));
    f.count++;
    finals.set(String(c.args.ts), f);
  }
  const starts: JobThreads['starts'] = new Map();
  for (const c of calls) {
    if (c.method !== 'chat.postMessage' || !c.ok) continue;
    const text = String(c.args.text);
    const ts = text.startsWith(`:rocket: ${verb} `)
      ? String(c.response?.ts)
      : text.startsWith(`:arrow_forward: :rocket: ${verb} `)
        ? String(c.args.thread_ts)
        : undefined;
    if (ts) starts.set(ts, [...(starts.get(ts) ?? []), c.at]);
  }
  return { finals, starts };
}
