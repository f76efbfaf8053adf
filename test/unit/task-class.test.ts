import { describe, expect, it } from 'vitest';
import { approvalRuleFor } from '../../src/approvals/policy.js';
import { loadVerbs } from '../../src/command/registry.js';
import { classOf } from '../../src/command/types.js';
import { parseConfig } from '../../src/config/load.js';
import { CONFIG_YAML } from './fixtures.js';

const config = parseConfig(
  CONFIG_YAML.replace(
    '    environments: { prod: { replicas: 4 } }\n',
    `    environments: { prod: { replicas: 4 } }
    tasks:
      jvm-flags: { command: [jcmd, "1", VM.flags], class: read }
      migrate: { command: [./manage.py, migrate], class: write }
      reindex: [./reindex]
`,
  ),
  'test.yaml',
);
const run = (await loadVerbs()).get('run')!;
const args = (task: string) => ({ app: 'myapp', env: 'prod', task });

describe('tasks.<name>.class', () => {
  it('lowers a task below admin: read needs no approval, write and admin (the default) do', () => {
    expect(classOf(run, args('jvm-flags'), config)).toBe('read');
    expect(classOf(run, args('migrate'), config)).toBe('write');
    expect(classOf(run, args('reindex'), config)).toBe('admin');
    expect(approvalRuleFor(config, run, args('jvm-flags'), 'prod')).toBeUndefined();
    expect(approvalRuleFor(config, run, args('migrate'), 'prod')).toBeDefined();
    expect(approvalRuleFor(config, run, args('reindex'), 'prod')).toBeDefined();
  });

  it('stays admin for a task or app that is not configured, whatever its name', () => {
    for (const task of ['nosuch', 'constructor', '__proto__']) expect(classOf(run, args(task), config)).toBe('admin');
    expect(classOf(run, { app: 'toString', env: 'prod', task: 'x' }, config)).toBe('admin');
  });

  it('refuses a class that does not exist', () => {
    expect(() =>
      parseConfig(
        CONFIG_YAML.replace(
          '    env: { LOG_LEVEL: info }\n',
          '    env: { LOG_LEVEL: info }\n    tasks: { x: { command: [a], class: root } }\n',
        ),
        't.yaml',
      ),
    ).toThrow(/apps.myapp.tasks.x/);
  });
});
