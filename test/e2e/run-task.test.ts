import { beforeAll, describe, expect, it, vi } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace(
      '    environments: { prod: { replicas: 3 } }\n',
      '    environments: { prod: { replicas: 3 } }\n    tasks:\n      jvm-flags: [jcmd, "1", VM.flags]\n      migrate: { command: [./manage.py, migrate, --check], timeout: 5s }\n      hang: { command: [sleep, "100"], timeout: 1s }\n',
    )
    .replace('channels:\n', 'channels:\n  C0BETAOPS: { environments: [beta], commands: [status, deploy] }\n');

const h = useHarness({ name: 'run-task', config: CONFIG });

const threadText = (ts: string) => h.threadText(OPS, ts);

beforeAll(async () => {
  h.kube.scriptExec(['jcmd', '1', 'VM.flags'], { stdout: '-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC <!channel>\n' });
  h.kube.scriptExec(['./manage.py', 'migrate', '--check'], {
    stdout: 'Unapplied migrations: shop.0003\n',
    stderr: 'CommandError: 1 unapplied\n',
    exitCode: 2,
  });
  h.kube.scriptExec(['sleep', '100'], { stdout: 'never\n', delayMs: 60_000 });
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);

describe('/k8s run', () => {
  it('runs an allow-listed task in a pod of the app and reports its output (escaped) and exit code', async () => {
    await h.command('run myapp beta jvm-flags', { channel: OPS, user: 'U0OPS' });
    const done = await h.waitForFinal(/task `jvm-flags` of myapp in beta — exit code 0/);
    const text = threadText(done.args.ts);
    expect(text).toContain('-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC');
    expect(text).not.toContain('<!channel>');
    const call = h.kube.execs.at(-1)!;
    expect(call.command).toEqual(['jcmd', '1', 'VM.flags']);
    expect(call.pod).toMatch(/^myapp-/);
  });

  it('reports a non-zero exit code with stdout and stderr', async () => {
    await h.command('run myapp beta migrate', { channel: OPS, user: 'U0OPS' });
    const done = await h.waitForFinal(/:x: task `migrate` of myapp in beta — exit code 2/);
    const text = threadText(done.args.ts);
    expect(text).toContain('Unapplied migrations: shop.0003');
    expect(text).toContain('CommandError: 1 unapplied');
    // The audit entry is written just after the thread's last update: wait for it.
    const entry = await vi.waitFor(
      async () => {
        const [last] = await h.chatops.services.audit.recent({ verb: 'run', env: 'beta', limit: 1 });
        if (last?.outcome !== 'failed') throw new Error(`last run entry is ${last?.outcome}`);
        return last;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(entry).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^task migrate in pod myapp-\S+: exit code 2$/) });
  });

  it('abandons a task at its timeout and says so', async () => {
    await h.command('run myapp beta hang', { channel: OPS, user: 'U0OPS' });
    await h.waitForFinal(/task `hang` of myapp in beta did not finish within 1s/);
  });

  it('refuses a task that is not in the allow-list, and a channel without the verb, before any cluster call', async () => {
    const before = h.kube.requests.length;
    const unknown = await h.command('run myapp beta rm-rf', { channel: OPS, user: 'U0OPS' });
    expect(unknown.json.text).toContain("`rm-rf` is not one of myapp's tasks: `jvm-flags`, `migrate`, `hang`");
    const shell = await h.command('run myapp beta "sh -c id"', { channel: OPS, user: 'U0OPS' });
    expect(shell.json.text).not.toContain('Queued');
    const narrow = await h.command('run myapp beta jvm-flags', { channel: 'C0BETAOPS', user: 'U0DEV' });
    expect(narrow.json.text).toMatch(/may not|not allowed/i);
    expect(h.kube.requests.length).toBe(before);
    expect(h.kube.execs.every((e) => ['jcmd', './manage.py', 'sleep'].includes(e.command[0]!))).toBe(true);
  });
});
