/**
 * A diff (src/kube/diff.ts) as chat shows it: one header line per object, then
 * its `-`/`+` lines, in code blocks (escaped: cluster and user text cannot
 * mention anyone or fake a link). Pure.
 */
import type { Diff, ObjectDiff } from '../../kube/diff.js';
import { codeSections } from '../code-sections.js';
import { context, escapeMrkdwn, section, type Block, type SlackMessage } from '../blocks.js';

/** Longer than this (lines or characters), and the whole diff goes up as a file with the start shown inline. */
export const DIFF_INLINE_MAX_LINES = 40;
export const DIFF_INLINE_MAX_CHARS = 2_800;

const ACTION: Record<ObjectDiff['action'], { mark: string; word: string }> = {
  create: { mark: '+', word: 'created' },
  update: { mark: '~', word: 'changed' },
  delete: { mark: '-', word: 'deleted' },
};

function objectHeader(o: ObjectDiff): string {
  const { mark, word } = ACTION[o.action];
  return `${mark} ${o.kind.toLowerCase()} ${o.name}${o.namespace ? ` (namespace ${o.namespace})` : ''}: ${word}`;
}

/** The diff as plain lines (what the file holds; chat escapes them when it shows them). */
export function diffLines(diff: Diff): string[] {
  if (diff.objects.length === 0) return ['no changes'];
  const lines: string[] = [];
  for (const o of diff.objects) {
    lines.push(objectHeader(o));
    for (const l of o.lines) lines.push(`  ${l.op} ${l.path}: ${l.value}`);
  }
  return lines;
}

/** "2 objects: 1 changed, 1 created" */
export function diffSummary(diff: Diff): string {
  if (diff.objects.length === 0) return 'no changes';
  const counts = (['update', 'create', 'delete'] as const)
    .map((a) => ({ a, n: diff.objects.filter((o) => o.action === a).length }))
    .filter((c) => c.n > 0)
    .map((c) => `${c.n} ${ACTION[c.a].word}`);
  const fields = diff.objects.reduce((n, o) => n + o.lines.length, 0);
  return `${diff.objects.length} object${diff.objects.length === 1 ? '' : 's'} (${counts.join(', ')}), ${fields} field line${fields === 1 ? '' : 's'}`;
}

export interface DiffView {
  /** True when the whole diff is in `blocks`; false: attach `fullText` as a file, `blocks` show its start. */
  fits: boolean;
  blocks: Block[];
  fullText: string;
  summary: string;
}

/** The diff's blocks under a mrkdwn `title` (the caller's own text, already escaped). */
export function diffBlocks(diff: Diff, title: string, maxBlocks = 1): DiffView {
  const lines = diffLines(diff);
  const fullText = lines.join('\n');
  const fits = lines.length <= DIFF_INLINE_MAX_LINES && escapeMrkdwn(fullText).length <= DIFF_INLINE_MAX_CHARS;
  const summary = diffSummary(diff);
  if (diff.objects.length === 0) return { fits: true, blocks: [section(`${title}\n_No changes._`)], fullText, summary };
  const inline = fits ? lines : lines.slice(0, DIFF_INLINE_MAX_LINES);
  const { blocks, shown } = codeSections(inline, maxBlocks, DIFF_INLINE_MAX_CHARS);
  const rest = lines.length - shown;
  return {
    fits: fits && rest === 0,
    blocks: [section(title), ...blocks, ...(rest > 0 ? [context(`… ${rest} more line${rest === 1 ? '' : 's'} in the attached file`)] : [])],
    fullText,
    summary,
  };
}

/** The answer to `--dry-run`: what would change, nothing written. */
export function dryRunMessage(diff: Diff, what: string, notes: readonly string[] = []): { view: DiffView; message: SlackMessage } {
  const empty = diff.objects.length === 0;
  const title = `:mag: *Dry run* of \`${escapeMrkdwn(what)}\` — ${empty ? 'no changes' : escapeMrkdwn(diffSummary(diff))}. Nothing was written.`;
  const view = diffBlocks(diff, title);
  const noteBlocks = notes.length ? [context(notes.map((n) => escapeMrkdwn(n)).join(' · '))] : [];
  return {
    view,
    message: {
      text: `Dry run of ${escapeMrkdwn(what)}: ${escapeMrkdwn(view.summary)}. Nothing was written.`,
      blocks: [...view.blocks, ...noteBlocks],
    },
  };
}
