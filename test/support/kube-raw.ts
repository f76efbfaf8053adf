/** Raw HTTP and kubectl helpers for the kube emulator's strictness tests (what a client sends, byte for byte). */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';

/** kubectl with this kubeconfig; `@` in args stands for a file holding `input` as YAML (written in `dir`). */
export async function kubectlWith(
  kubeconfig: string,
  dir: string,
  args: string[],
  input?: unknown,
): Promise<{ code: number; stdout: string; stderr: string }> {
  if (input !== undefined) {
    const file = join(dir, `in-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, toYaml(input));
    args = args.map((a) => (a === '@' ? file : a));
  }
  try {
    const { stdout, stderr } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    if (typeof err?.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export const CT = {
  json: 'application/json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export async function rawCall(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = CT.json,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'Content-Type': contentType, 'User-Agent': 'strict-test/1.0' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export function labelledDeployment(name: string, labels: Record<string, string>, image = 'nginx:1', resources?: unknown): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image, ...(resources ? { resources } : {}) }] } },
    },
  };
}
