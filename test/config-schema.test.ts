import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SCHEMA_FILE, configJsonSchema, renderConfigJsonSchema } from '../scripts/gen-config-schema.js';
import { ConfigError, parseConfig } from '../src/config/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = ['chatops.example.yaml', 'deploy/kustomize/base/chatops.yaml'];

function jsonSchemaValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(configJsonSchema());
}

describe('deploy/chatops.schema.json', () => {
  it('is what `npm run gen:schema` generates from src/config/schema.ts now', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '(missing)');
    expect(committed, 'deploy/chatops.schema.json is out of date: run `npm run gen:schema`').toBe(renderConfigJsonSchema());
  });

  it("carries the schema's descriptions, so editors can show them", () => {
    const text = renderConfigJsonSchema();
    expect(text).toContain('kubeconfig context to use for this cluster');
    expect(text).toContain('how long a request waits for approval, e.g. 30m');
  });

  it.each(EXAMPLES)('accepts %s', async (file) => {
    const validate = jsonSchemaValidator();
    const ok = validate(parseYaml(await readFile(join(ROOT, file), 'utf8')));
    expect(validate.errors ?? [], file).toEqual([]);
    expect(ok).toBe(true);
  });

  it('refuses what the config loader refuses at the field level', () => {
    const validate = jsonSchemaValidator();
    const base = { environments: { beta: { namespace: 'beta' } } };
    expect(validate(base)).toBe(true);
    expect(validate({ environments: { beta: { namespace: 'Beta_1' } } })).toBe(false);
    expect(validate({ ...base, environment: {} })).toBe(false);
    expect(validate({ ...base, channels: { general: { environments: ['beta'], commands: ['status'] } } })).toBe(false);
    expect(validate({ ...base, alerts: [{ environments: ['beta'], channel: 'C0ONCALL', on: ['PodSunburn'] }] })).toBe(false);
  });
});

describe('config examples', () => {
  it.each(EXAMPLES)('%s is a valid configuration', async (file) => {
    const text = await readFile(join(ROOT, file), 'utf8');
    expect(() => parseConfig(text, file)).not.toThrow();
  });

  it('chatops.example.yaml is the example of the design: two clusters, an approval-gated prod, per-channel access, alerts', async () => {
    const config = parseConfig(await readFile(join(ROOT, 'chatops.example.yaml'), 'utf8'), 'chatops.example.yaml');
    expect(config.clusters).toEqual({ default: { context: 'dev' }, prod: { context: 'prod-admin' } });
    expect(config.environments.prod).toMatchObject({
      cluster: 'prod',
      namespace: 'prod',
      promoteFrom: 'beta',
      approval: { approvers: ['U0OPSLEAD', 'S0OPSGROUP'], minApprovals: 1, allowSelfApproval: false, timeout: 30 * 60_000 },
    });
    expect(config.apps.myapp).toMatchObject({
      image: 'registry.example.com/team/myapp',
      port: 8080,
      replicas: 2,
      environments: { prod: { replicas: 4 } },
    });
    expect(Object.keys(config.channels)).toEqual(['C0DEVTEAM', 'C0OPS', 'C0RELEASE', 'C0ONCALL']);
    expect(config.alerts).toEqual([
      {
        environments: ['prod', 'beta'],
        channel: 'C0ONCALL',
        on: ['OOMKilled', 'Unschedulable', 'CrashLoopBackOff', 'ImagePullBackOff'],
        nodes: false,
        pendingFor: 2 * 60_000,
        recoverAfter: 5 * 60_000,
        reopenWithin: 30 * 60_000,
      },
    ]);
  });

  it('a mistake in the example would be reported with its path', async () => {
    const text = (await readFile(join(ROOT, 'chatops.example.yaml'), 'utf8')).replace('promoteFrom: beta', 'promoteFrom: staging');
    expect(() => parseConfig(text, 'chatops.example.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(text, 'chatops.example.yaml')).toThrow(/environments\.prod\.promoteFrom: unknown environment "staging"/);
  });
});
