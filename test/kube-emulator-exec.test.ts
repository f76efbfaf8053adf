import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kubeconfigPath: string;
let kc: KubeConfig;

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'shell', namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
};

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c, _e, done) => (chunks.push(Buffer.from(c)), done()) }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

async function clientExec(pod: string, command: string[]): Promise<{ stdout: string; stderr: string; status: V1Status }> {
  const out = sink();
  const err = sink();
  return new Promise((resolve, reject) => {
    new Exec(kc)
      .exec('default', pod, 'app', command, out.stream, err.stream, null, false, (status) =>
        resolve({ stdout: out.text(), stderr: err.text(), status }),
      )
      .catch(reject);
  });
}

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default'] });
  const dir = await mkdtemp(join(tmpdir(), 'kube-exec-'));
  kubeconfigPath = await emu.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  emu.create(POD);
  await emu.waitFor(() => emu.get('v1', 'Pod', 'default', 'shell')?.status?.phase === 'Running', 10_000, 'the pod runs');
});
afterAll(async () => {
  await emu?.close();
});

describe('pods/exec in the Kubernetes emulator', () => {
  it('speaks the channel protocol to client-node: stdout, stderr and the exit code in the status channel', async () => {
    emu.scriptExec(['jcmd', '1', 'VM.flags'], { stdout: '-XX:MaxRAMPercentage=75.0\n', stderr: 'warning: x\n' });
    const ok = await clientExec('shell', ['jcmd', '1', 'VM.flags']);
    expect(ok.stdout).toBe('-XX:MaxRAMPercentage=75.0\n');
    expect(ok.stderr).toBe('warning: x\n');
    expect(ok.status.status).toBe('Success');

    emu.scriptExec(['./manage.py', 'migrate', '--check'], { stdout: 'unapplied: 0003\n', exitCode: 3 });
    const failed = await clientExec('shell', ['./manage.py', 'migrate', '--check']);
    expect(failed.status.reason).toBe('NonZeroExitCode');
    expect(failed.status.details?.causes?.[0]).toEqual({ reason: 'ExitCode', message: '3' });
    expect(emu.execs.at(-1)).toMatchObject({
      pod: 'shell',
      container: 'app',
      command: ['./manage.py', 'migrate', '--check'],
      protocol: 'v5.channel.k8s.io',
    });
  });

  it('answers an unknown binary as a container does, and refuses a missing pod or a denied exec', async () => {
    const missing = await clientExec('shell', ['nosuch']);
    expect(missing.stderr).toContain('executable file not found');
    expect(missing.status.details?.causes?.[0]?.message).toBe('126');
    await expect(clientExec('ghost', ['true'])).rejects.toBeDefined();
    emu.deny({ verb: 'create', resource: 'pods', subresource: 'exec' });
    await expect(clientExec('shell', ['true'])).rejects.toBeDefined();
    emu.clearDenies();
  });

  it('works with kubectl exec', async () => {
    emu.scriptExec(['echo', 'hello'], { stdout: 'hello\n' });
    const { stdout } = await promisify(execFile)(
      'kubectl',
      ['--kubeconfig', kubeconfigPath, 'exec', '-n', 'default', 'shell', '--', 'echo', 'hello'],
      { timeout: 15_000 },
    );
    expect(stdout).toBe('hello\n');
    emu.scriptExec(['false'], { exitCode: 1 });
    const failed = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfigPath, 'exec', '-n', 'default', 'shell', '--', 'false'], {
      timeout: 15_000,
    }).then(
      () => 0,
      (err: unknown) => (err as { code?: number }).code,
    );
    expect(failed).toBe(1);
  });
});
