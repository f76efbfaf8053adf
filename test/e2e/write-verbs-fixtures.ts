/** Shared by the write-verbs-* e2e tests: the config, one harness per file with myapp 1.0.0 deployed, and reads of what reached the cluster. */
import { beforeAll } from 'vitest';
import { E2E_CONFIG, type Harness } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

/** The harness config, with a secret key on myapp and an app `single` whose Deployment kubectl made. */
export const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace('    env: { LOG_LEVEL: info }\n', '    env: { LOG_LEVEL: info }\n    secretKeys: [DB_PASSWORD]\n')
    .replace('  hungry:\n', '  single:\n    image: registry.example.com/other/single\n  hungry:\n');
export const IMAGE = 'registry.example.com/team/myapp';
export const OPS = 'C0OPS';

/** The harness of the running test file (a live binding: set when the file calls useWriteVerbsHarness). */
export let h: Harness;

/** Starts the harness before the file's tests, with myapp 1.0.0 deployed to beta from OPS, and stops it after the last. */
export function useWriteVerbsHarness(name: string): void {
  h = useHarness({ name, config: CONFIG });
  beforeAll(async () => {
    await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
  });
}

export const threadText = (ts: string) => h.threadText(OPS, ts);
/** What the worker told the requester privately (through the command's response_url). */
export const privateAnswer = (responseUrl: string, match?: RegExp) => h.answer(responseUrl, match);

/** The value of the chatops_run button in a message's blocks. */
export function buttonValue(blocks: any[] | undefined): string | undefined {
  const button = (blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .find((e: any) => e.action_id === 'chatops_run');
  return button?.value;
}

export const deployment = (name = 'myapp', ns = 'beta') => h.kube.get('apps/v1', 'Deployment', ns, name);
export const myappPods = (): string[] =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'myapp')
    .map((p) => p.metadata.name);
export const workloadRequests = () => h.kube.requests.filter((r) => !r.path.includes('selfsubjectaccessreviews')).length;

/** A Deployment the bot's config does not know, created as kubectl would. */
export async function createForeignDeployment(name: string, opts: { paused?: boolean } = {}) {
  h.kube.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'beta' },
    spec: {
      replicas: 1,
      ...(opts.paused ? { paused: true } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `registry.example.com/other/${name}:1` }] } },
    },
  });
  if (!opts.paused) await h.kube.waitFor(() => deployment(name)?.status?.availableReplicas === 1, 5_000, `${name} available`);
}
