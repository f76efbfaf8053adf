/**
 * Writes deploy/chatops.schema.json: the JSON Schema of the config file, generated
 * from the zod schema (src/config/schema.ts) so editors can validate and complete
 * chatops.yaml. Run `npm run gen:schema` after changing the schema;
 * test/config-schema.test.ts fails when the committed file is out of date.
 *
 *   npm run gen:schema            # write the file
 *   npm run gen:schema -- --check # exit 1 if the file is out of date
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../deploy/chatops.schema.json', import.meta.url));
export const SCHEMA_ID = 'https://github.com/k8s-chatops/k8s-chatops/deploy/chatops.schema.json';

/**
 * The schema of what a user writes (`io: 'input'`): defaults are optional, durations
 * are strings. Checks that only code can do (known duration forms, cross-references
 * between sections) are not in it — start-up and `parseConfig` still run them.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: generated.$schema,
    $id: SCHEMA_ID,
    title: 'k8s-chatops configuration (CHATOPS_CONFIG)',
    description: 'Generated from src/config/schema.ts by `npm run gen:schema`; do not edit by hand.',
    ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema')),
  };
}

export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

async function main(): Promise<void> {
  const text = renderConfigJsonSchema();
  if (process.argv.includes('--check')) {
    const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (current !== text) {
      process.stderr.write(`${SCHEMA_FILE} is out of date: run npm run gen:schema\n`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(SCHEMA_FILE, text);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
