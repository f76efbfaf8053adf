/** Renders deploy/kustomize with `kubectl kustomize`: shared by the deploy-* and permissions-rbac tests. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll } from 'vitest';
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
/** A rendered object read as untyped JSON, the way the deploy-* tests walk it. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

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

export const OVERLAYS = ['all-in-one', 'split-roles', 'with-redis'] as const;
export const COMPONENTS = ['servicemonitor', 'node-labels'] as const;
/** Every overlay, the base, the base with each component and with all, and split-roles with all. */
export const CASES = [
  ...OVERLAYS.map((o) => `overlays/${o}`),
  'base',
  ...COMPONENTS.map((c) => `base + components/${c}`),
  `base + ${COMPONENTS.map((c) => `components/${c}`).join(' + ')}`,
  `overlays/split-roles + ${COMPONENTS.map((c) => `components/${c}`).join(' + ')}`,
];

/** Renders every one of CASES in a beforeAll of the calling test file; the function returned reads one by name. */
export function renderEveryCase(): (name: string) => Manifest[] {
  const renders = new Map<string, Manifest[]>();
  beforeAll(async () => {
    await Promise.all(
      CASES.map(async (name) => {
        const [resource, ...components] = name.split(' + ') as [string, ...string[]];
        renders.set(
          name,
          components.length ? await kustomizeWith<Manifest>(resource, components) : await kustomize<Manifest>(join(KUSTOMIZE, resource)),
        );
      }),
    );
  });
  return (name: string): Manifest[] => {
    const objs = renders.get(name);
    if (!objs) throw new Error(`not rendered: ${name}`);
    return objs;
  };
}

export const ofKind = (objs: Manifest[], kind: string) => objs.filter((o) => o.kind === kind);
