import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layout rules of CONTRIBUTING.md, checked on the import graph the
 * TypeScript compiler sees (type-only imports count: they tie modules together
 * just as much for a reader).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** file → the project files it imports (relative specifiers only; `.js` names the `.ts` source). */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle, each reported once, as the path that closes it. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Folders (under src/) a layer may not import from. */
const FORBIDDEN: Array<{ layer: string; why: string; may: (target: string) => boolean }> = [
  {
    layer: 'src/kube/',
    why: 'kube/ is the bottom layer: it may use errors, config, the logger and metrics only',
    may: (t) => /^src\/(kube|errors|config)\//.test(t) || t === 'src/log.ts' || t === 'src/server/metrics.ts',
  },
  {
    layer: 'src/slack/',
    why: 'slack/ is transport (Bolt app, receivers, Block Kit, views): the command pipeline calls it, not the other way round',
    may: (t) => !/^src\/(command\/(?!types\.ts|request\.ts)|approvals|alerts|worker|queue|audit)\b/.test(t) && t !== 'src/runtime.ts',
  },
  {
    layer: 'src/errors/',
    why: 'errors/ is a leaf every layer uses',
    may: (t) => t.startsWith('src/errors/'),
  },
  {
    layer: 'src/command/request.ts',
    why: 'the request types are a leaf so the queue, approvals and policy can share them',
    may: () => false,
  },
];

describe('module layout', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('commands')];
  const graph = importGraph(files);

  it('reads the real import graph', () => {
    expect(graph.get('src/runtime.ts')).toContain('src/command/intake.ts');
    expect(files.length).toBeGreaterThan(50);
  });

  it('has no import cycles', () => {
    expect(findCycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it.each(FORBIDDEN)('$layer imports only what its layer may ($why)', ({ layer, may }) => {
    const wrong = [...graph].flatMap(([from, targets]) =>
      from.startsWith(layer) ? targets.filter((t) => !may(t)).map((t) => `${from} → ${t}`) : [],
    );
    expect(wrong).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one (the check itself works)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', []],
    ]);
    expect(findCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(FORBIDDEN[0]!.may('src/policy/index.ts')).toBe(false);
    expect(FORBIDDEN[0]!.may('src/command/types.ts')).toBe(false);
    expect(FORBIDDEN[1]!.may('src/command/intake.ts')).toBe(false);
  });
});
