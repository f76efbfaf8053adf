import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadVerbs } from '../src/command/registry.js';
import { configJsonSchema } from '../scripts/gen-config-schema.js';

/** The README is the first thing a user reads: it must stay true to the code. */
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

function propertyNames(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => propertyNames(s, out));
  else if (schema && typeof schema === 'object') {
    const o = schema as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const [name, sub] of Object.entries(o.properties)) {
        out.add(name);
        propertyNames(sub, out);
      }
    }
    for (const key of ['additionalProperties', 'items', 'anyOf', 'oneOf', 'allOf', '$defs']) propertyNames(o[key], out);
  }
  return out;
}

describe('README', () => {
  it('starts with the set-up-and-run command and the test command', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toContain('npm ci && npm start');
    expect(firstBlock).toContain('npm test');
  });

  // Loading every verb module compiles each one: slow on a busy 2-core machine, so a generous limit.
  it('documents every verb in its command reference', { timeout: 60_000 }, async () => {
    for (const verb of (await loadVerbs()).keys()) expect(readme, `README lacks /k8s ${verb}`).toContain(`/k8s ${verb}`);
  });

  it('shows every config field of the JSON Schema in its configuration reference', () => {
    const reference = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Commands'));
    for (const name of propertyNames(configJsonSchema()))
      expect(reference, `README config reference lacks "${name}:"`).toMatch(new RegExp(`\\b${name}:`));
  });
});
