import { codeBlock, escapeMrkdwn, section, type Block } from './blocks.js';

/** Room for one code block in a section (Slack's 3,000 characters, less the fences). */
export const CODE_SECTION_CHARS = 2_900;

/**
 * Preformatted lines as consecutive code-block sections, split on line
 * boundaries, at most `maxBlocks`. Cluster and log text is escaped so it cannot
 * mention anyone or fake a link. `shown` counts the lines that made it in.
 */
export function codeSections(
  lines: readonly string[],
  maxBlocks: number,
  maxChars = CODE_SECTION_CHARS,
): { blocks: Block[]; shown: number } {
  const blocks: Block[] = [];
  let chunk: string[] = [];
  let size = 0;
  let shown = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    blocks.push(section(codeBlock(chunk.join('\n'), maxChars + 10)));
    chunk = [];
    size = 0;
  };
  for (const raw of lines) {
    // Measured escaped (as codeBlock will show it); kept raw, since codeBlock escapes.
    let line = raw;
    let shownLength = escapeMrkdwn(line).length;
    while (shownLength > maxChars) {
      line = `${line.slice(0, Math.max(0, line.length - (shownLength - maxChars) - 1))}…`;
      shownLength = escapeMrkdwn(line).length;
    }
    if (size + shownLength + 1 > maxChars) {
      flush();
      if (blocks.length >= maxBlocks) break;
    }
    chunk.push(line);
    size += shownLength + 1;
    shown++;
  }
  if (blocks.length < maxBlocks) flush();
  return { blocks, shown };
}

/** Lines of mrkdwn as consecutive sections, split on line boundaries under Slack's section limit. */
export function textSections(lines: readonly string[], maxChars = CODE_SECTION_CHARS): Block[] {
  const blocks: Block[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (chunk.length && size + line.length + 1 > maxChars) {
      blocks.push(section(chunk.join('\n')));
      chunk = [];
      size = 0;
    }
    chunk.push(line);
    size += line.length + 1;
  }
  if (chunk.length) blocks.push(section(chunk.join('\n')));
  return blocks;
}

/** Slack renders this in the reader's own time zone; `fallback` is shown where it cannot. */
export function slackDate(at: Date | number, fallback?: string): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  const text =
    fallback ??
    new Date(ms)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, ' UTC');
  return `<!date^${Math.floor(ms / 1_000)}^{date_short_pretty} {time_secs}|${text}>`;
}
