import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig, Log } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kubeconfigPath: string;
let kc: KubeConfig;

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
});

async function running(name: string): Promise<void> {
  emu.create(pod(name));
  await emu.waitFor(() => emu.get('v1', 'Pod', 'default', name)?.status?.phase === 'Running', 10_000, `${name} runs`);
}

/** Resolves when `text()` satisfies `pred`, re-checked on every chunk. */
function collector() {
  let text = '';
  const waiters = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      text += chunk.toString();
      waiters.forEach((w) => w());
      done();
    },
  });
  const until = (pred: (t: string) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pred(text)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(text)}`)), 10_000);
      waiters.add(check);
      check();
    });
  return { stream, until, text: () => text };
}

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: ['default'] });
  const dir = await mkdtemp(join(tmpdir(), 'kube-logs-'));
  kubeconfigPath = await emu.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
});
afterAll(async () => {
  await emu?.close();
});

describe('pods/log?follow=true in the Kubernetes emulator', () => {
  it('streams new lines to client-node and ends the stream when the container is killed', async () => {
    await running('tail');
    emu.appendLogs('default', 'tail', ['before']);
    const out = collector();
    let ended = false;
    out.stream.on('finish', () => (ended = true));
    await new Log(kc).log('default', 'tail', 'app', out.stream, { follow: true, tailLines: 1 });
    await out.until((t) => t === 'before\n', 'the last line written before');
    emu.appendLogs('default', 'tail', ['one', 'two']);
    await out.until((t) => t.endsWith('one\ntwo\n'), 'lines written after');
    emu.oomKill('default', 'tail');
    await emu.waitFor(() => ended, 10_000, 'the followed stream ends when its container stops');
  });

  it('follows the way kubectl logs -f reads it, and ends when the pod is deleted', async () => {
    await running('kubectl-tail');
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, 'logs', '-f', '--tail=0', 'kubectl-tail'], { stdio: 'pipe' });
    const out = collector();
    child.stdout.pipe(out.stream);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // kubectl has the stream open once a line written now reaches it: a line a tenth of a second until one does.
    const beat = setInterval(() => emu.appendLogs('default', 'kubectl-tail', ['ping']), 100);
    await out.until((t) => t.includes('ping\n'), 'kubectl receives followed lines').finally(() => clearInterval(beat));
    emu.remove('v1', 'Pod', 'default', 'kubectl-tail');
    expect(await exited).toBe(0);
  });

  it('refuses to follow a container that has not started, as the API server does', async () => {
    emu.create({ ...pod('pending'), spec: { ...pod('pending').spec, nodeName: 'no-such-node' } });
    const out = collector();
    await expect(new Log(kc).log('default', 'pending', 'app', out.stream, { follow: true })).rejects.toMatchObject({ code: 400 });
  });
});
