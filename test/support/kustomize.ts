/** Renders deploy/kustomize with `kubectl kustomize`: shared by the manifest, pod and RBAC tests. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const KUSTOMIZE = join(DEPLOY, 'kustomize');
/** The namespace the manifests run the bot in. */
export const BOT_NAMESPACE = 'k8s-chatops';

/** A rendered object; callers narrow it to the fields they read. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** `kubectl kustomize DIR`, no shell. */
export async function kustomize<T extends RenderedObject>(dir: string): Promise<T[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as T | null)
    .filter((o): o is T => o !== null);
}

/** A throw-away kustomization: the base (or an overlay, or any folder under deploy/kustomize) plus components. */
export async function kustomizeWith<T extends RenderedObject>(resource: string, components: string[]): Promise<T[]> {
  const dir = await mkdtemp(join(tmpdir(), 'chatops-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(KUSTOMIZE, p));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [rel(resource)],
        components: components.map(rel),
      }),
    );
    return await kustomize<T>(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
