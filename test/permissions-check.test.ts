/** `k8s-chatops check` against the Kubernetes API emulator: one row per permission, exit codes, Redis topology. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli.js';
import { REQUIRED_PERMISSIONS } from '../src/kube/permissions.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';
import { BOT_NAMESPACE } from './support/kustomize.js';
import { freePort } from './support/redis-server.js';
import { TEST_REDIS_URL } from './support/redis.js';

describe('k8s-chatops check', () => {
  let kube: KubeEmulator;
  let dir: string;
  let configFile: string;
  beforeAll(async () => {
    kube = await startKubeEmulator({ nodes: 1, namespaces: ['beta', BOT_NAMESPACE] });
    dir = await mkdtemp(join(tmpdir(), 'chatops-check-'));
    const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['dev']);
    configFile = join(dir, 'chatops.yaml');
    await writeFile(
      configFile,
      stringify({
        clusters: { dev: { context: 'dev', kubeconfig } },
        environments: { beta: { cluster: 'dev', namespace: 'beta' } },
        channels: { C0OPS: { environments: ['beta'], commands: ['status', 'label'] } },
        alerts: [{ environments: ['beta'], channel: 'C0ONCALL' }],
      }),
    );
  });
  afterAll(async () => {
    await kube?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function check(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['check', '--config', configFile, '--bot-namespace', BOT_NAMESPACE, ...args], {
      // check also asks Redis (unreachable = not ready): the tests' Redis.
      env: { REDIS_URL: TEST_REDIS_URL },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    return { code, stdout, stderr };
  }

  it('passes and prints one row per permission when everything is allowed', async () => {
    kube.clearDenies();
    const { code, stdout } = await check();
    expect(code).toBe(0);
    expect(stdout).toContain('environment beta — cluster dev');
    expect(stdout).toContain('leader election (alerts) — cluster dev');
    expect(stdout).toMatch(/OK: the bot may do everything/);
    // Each permission appears once: namespaced + cluster-wide in the env report, leases in the leader report;
    // `debug`'s are not asked for, since no channel enables it.
    expect(stdout.split('\n').filter((l) => /^\s+ok\s/.test(l))).toHaveLength(
      REQUIRED_PERMISSIONS.filter((p) => p.optional !== 'debug' && p.optional !== 'run').length,
    );
    expect(stdout).not.toContain('debug: create');
  });

  it('fails with exit code 1 and names the missing permission', async () => {
    kube.clearDenies();
    kube.deny({ verb: 'patch', resource: 'deployments', subresource: 'scale', namespace: 'beta' });
    kube.deny({ verb: 'update', resource: 'leases', namespace: BOT_NAMESPACE });
    const { code, stdout } = await check();
    expect(code).toBe(1);
    expect(stdout).toMatch(/MISSING\s+patch\s+deployments\/scale\s+apps\s+ns beta\s+scale: set the replica count/);
    expect(stdout).toMatch(/MISSING\s+update\s+leases\s+coordination\.k8s\.io\s+ns k8s-chatops/);
    expect(stdout).toContain('NOT OK: 2 needed permission(s) missing');
    expect(stdout).toContain('  - patch deployments/scale (apps) in namespace beta');
    expect(stdout).toContain('  - update leases (coordination.k8s.io) in namespace k8s-chatops');
  });

  it('treats node patching as required because a channel enables `label`', async () => {
    kube.clearDenies();
    kube.deny({ verb: 'patch', resource: 'nodes' });
    const { code, stdout } = await check();
    expect(code).toBe(1);
    expect(stdout).toContain('  - patch nodes (core) cluster-wide');
  });

  it('reads the same Redis topology settings as the bot (Cluster, Sentinel), not only REDIS_URL', async () => {
    const port = await freePort();
    let stdout = '';
    const code = await runCli(['check', '--config', configFile, '--bot-namespace', BOT_NAMESPACE], {
      env: { REDIS_URL: TEST_REDIS_URL, REDIS_CLUSTER_NODES: `127.0.0.1:${port}` },
      stdout: (t) => (stdout += t),
      stderr: () => {},
    });
    expect(code).toBe(1);
    expect(stdout).toContain(`Redis at Cluster 127.0.0.1:${port} is unreachable`);
    let stderr = '';
    const bad = await runCli(['check', '--config', configFile], {
      env: { REDIS_SENTINELS: '127.0.0.1:26379' },
      stdout: () => {},
      stderr: (t) => (stderr += t),
    });
    expect(bad).toBe(2);
    expect(stderr).toContain('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS');
  });

  it('answers 2 with the file and the problem on a bad config', async () => {
    let stderr = '';
    const code = await runCli(['check', '--config', join(dir, 'missing.yaml')], {
      env: {},
      stdout: () => {},
      stderr: (t) => (stderr += t),
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`invalid configuration in ${join(dir, 'missing.yaml')}`);
    expect(stderr).toContain('file not found');
  });
});
