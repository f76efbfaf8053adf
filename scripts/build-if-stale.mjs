#!/usr/bin/env node
// `npm start`'s build step: compile only when a source changed since the last build.
// Plain JavaScript on purpose: it runs before anything is compiled.
// The stamp lists every source file with its size and mtime; any difference
// (edit, checkout, new or deleted file, other compiler options) rebuilds, and a
// deleted source also removes the stale dist/ output (verbs are discovered from dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(root, 'dist', '.build-stamp.json');
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function walk(dir, out) {
  if (!existsSync(join(root, dir))) return;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) walk(rel, out);
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
}

function fingerprint() {
  const files = [...INPUTS];
  walk('src', files);
  walk('commands', files);
  files.sort();
  return Object.fromEntries(
    files
      .filter((f) => existsSync(join(root, f)))
      .map((f) => {
        const s = statSync(join(root, f));
        return [f, `${s.size}:${Math.floor(s.mtimeMs)}`];
      }),
  );
}

let previous = {};
try {
  previous = JSON.parse(readFileSync(STAMP, 'utf8'));
} catch {
  // never built, or the stamp is unreadable: build
}
const current = fingerprint();
const changed = Object.keys(current).filter((f) => previous[f] !== current[f]);
const removed = Object.keys(previous).filter((f) => !(f in current));
if (changed.length === 0 && removed.length === 0 && existsSync(join(root, 'dist', 'src', 'main.js'))) process.exit(0);

if (removed.length > 0) rmSync(join(root, 'dist'), { recursive: true, force: true });
const why = Object.keys(previous).length === 0 ? 'first build' : `${changed.length + removed.length} file(s) changed`;
process.stderr.write(`k8s-chatops: compiling (${why})…\n`);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(STAMP, JSON.stringify(current));
