import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Verb } from './types.js';

const COMMANDS_DIR = new URL('../../commands/', import.meta.url);

function isVerbModuleFile(file: string): boolean {
  return /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts') && !file.startsWith('_') && !file.includes('.test.');
}

/** Every file in commands/ default-exports one verb: adding a verb is adding a file. */
export async function loadVerbs(): Promise<Map<string, Verb>> {
  const files = (await readdir(fileURLToPath(COMMANDS_DIR))).filter(isVerbModuleFile).sort();
  const verbs = new Map<string, Verb>();
  for (const file of files) {
    const module = (await import(new URL(file, COMMANDS_DIR).href)) as { default?: Verb };
    const verb = module.default;
    if (!verb?.verb) throw new Error(`commands/${file} does not default-export a verb`);
    if (verbs.has(verb.verb)) throw new Error(`verb "${verb.verb}" is defined twice (commands/${file})`);
    verbs.set(verb.verb, verb);
  }
  return verbs;
}
