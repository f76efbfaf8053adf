/** `--dry-run` on the write verbs: a server-side dry run through the verb's own code path, answered with the diff; nothing written. */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';
import { dryRunOnly, makeClusterClient } from '../../src/kube/clusters.js';
import { canaryStore } from '../../src/canary/lifecycle.js';

/** The harness config, with a secret key on myapp. */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig).replace('    env: { LOG_LEVEL: info }\n', '    env: { LOG_LEVEL: info }\n    secretKeys: [DB_PASSWORD]\n');
const OPS = 'C0OPS';
const IMAGE = 'registry.example.com/team/myapp';

const h = useHarness({ name: 'dry-run', config: CONFIG });
let since = 0;
let requestsSince = 0;

async function deployFor(version: string) {
  const mark = h.slack.calls.at(-1)?.seq ?? 0;
  await h.command(`deploy myapp beta ${version}`, { channel: OPS });
  await h.slack.waitForCall(
    (c) =>
      c.seq > mark &&
      c.method === 'chat.update' &&
      new RegExp(`:white_check_mark: deploy myapp ${version.replace(/\./g, '\\.')} → beta — done`).test(c.args.text),
    10_000,
  );
}

beforeAll(async () => {
  await deployFor('1.0.0');
  await deployFor('1.1.0');
});
beforeEach(() => {
  since = h.slack.calls.at(-1)?.seq ?? 0;
  requestsSince = h.kube.requests.length;
});

const deployment = () => h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
const configMap = () => h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config');
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Writes to the cluster since the test began, other than access reviews: each must be a dry run. */
function writesSince() {
  return h.kube.requests.slice(requestsSince).filter((r) => WRITES.has(r.method) && !r.path.includes('selfsubjectaccessreviews'));
}

/** Runs the command as a dry run and returns the private answer, after checking nothing was written or posted. */
async function dryRun(text: string): Promise<{ text: string; blocks: string }> {
  const before = { deployment: deployment(), configMap: configMap() };
  const res = await h.command(text, { channel: OPS });
  expect(res.json.text).toMatch(/^:mag: Dry run of `.*`: the diff follows here; nothing is written\./);
  const id = res.responseUrl.split('/').pop();
  const answer = await h.slack.waitForResponse((r) => r.id === id && /Dry run/.test(String(r.body.text)), 10_000);
  expect(answer.body.response_type).toBe('ephemeral');
  // Nothing changed: same objects, same generation and resourceVersion; every write was a dry run.
  const after = { deployment: deployment(), configMap: configMap() };
  expect(after.deployment.metadata.resourceVersion).toBe(before.deployment.metadata.resourceVersion);
  expect(after.deployment.metadata.generation).toBe(before.deployment.metadata.generation);
  expect(after.deployment.spec).toEqual(before.deployment.spec);
  expect(after.configMap.metadata.resourceVersion).toBe(before.configMap.metadata.resourceVersion);
  const writes = writesSince();
  expect(writes.length).toBeGreaterThan(0);
  for (const w of writes) expect(w.query.dryRun, `${w.method} ${w.path}`).toBe('All');
  // No thread: a dry run posts nothing in the channel.
  expect(h.slack.calls.filter((c) => c.seq > since && c.method === 'chat.postMessage')).toEqual([]);
  return { text: String(answer.body.text), blocks: JSON.stringify(answer.body.blocks ?? []) };
}

describe('--dry-run', () => {
  it('deploy: shows the image change as -/+ lines and writes nothing', async () => {
    const { text, blocks } = await dryRun('deploy myapp beta 1.2.0 --dry-run');
    expect(text).toContain('Dry run of deploy myapp 1.2.0 → beta');
    expect(blocks).toContain('~ deployment myapp (namespace beta): changed');
    expect(blocks).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.1.0`);
    expect(blocks).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:1.2.0`);
    // Server-set noise is not shown.
    expect(blocks).not.toMatch(/managedFields|resourceVersion|generation|deployment\.kubernetes\.io\/revision|status\./);
    // The same apply the real deploy sends, as a dry run.
    const apply = writesSince().find((w) => w.path === '/apis/apps/v1/namespaces/beta/deployments/myapp');
    expect(apply?.contentType).toContain('application/apply-patch+yaml');
    expect(apply?.query.fieldManager).toBe('k8s-chatops');
  });

  it('scale: replicas before and after, through the scale subresource as a dry run', async () => {
    const { blocks } = await dryRun('scale myapp beta 5 --dry-run');
    expect(blocks).toContain('- spec.replicas: 2');
    expect(blocks).toContain('+ spec.replicas: 5');
    expect(writesSince().map((w) => w.path)).toEqual(['/apis/apps/v1/namespaces/beta/deployments/myapp/scale']);
    expect(deployment().spec.replicas).toBe(2);
  });

  it('scale to 0: shows the diff instead of asking to confirm', async () => {
    const { blocks } = await dryRun('scale myapp beta 0 --dry-run');
    expect(blocks).toContain('+ spec.replicas: 0');
    expect(blocks).not.toContain('chatops_run');
  });

  it('config set: the ConfigMap keys and the checksum that rolls the pods; a secret value is masked everywhere', async () => {
    const { blocks } = await dryRun('config myapp beta set LOG_LEVEL=debug DB_PASSWORD=hunter2 --dry-run');
    expect(blocks).toContain('~ configmap myapp-config (namespace beta): changed');
    expect(blocks).toContain('- data.LOG_LEVEL: info');
    expect(blocks).toContain('+ data.LOG_LEVEL: debug');
    expect(blocks).toContain('+ data.DB_PASSWORD: ••••••');
    expect(blocks).toMatch(
      /~ deployment myapp \(namespace beta\): changed[^`]*spec\.template\.metadata\.annotations\[\\"k8s-chatops\.io\/config-checksum\\"\]/,
    );
    expect(configMap().data).toEqual({ LOG_LEVEL: 'info' });
    const everything = JSON.stringify(h.slack.calls.filter((c) => c.seq > since)) + JSON.stringify(h.slack.responses ?? []);
    expect(everything).not.toContain('hunter2');
  });

  it("rollback: back to the previous revision's image, nothing rolled", async () => {
    const { blocks } = await dryRun('rollback myapp beta --dry-run');
    expect(blocks).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.1.0`);
    expect(blocks).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    const patch = writesSince().find((w) => w.method === 'PATCH');
    expect(patch?.contentType).toContain('application/json-patch+json');
  });

  it('says "no changes" when the change is already there', async () => {
    const { text, blocks } = await dryRun('scale myapp beta 2 --dry-run');
    expect(text).toContain('no changes');
    expect(blocks).toContain('No changes');
  });

  it('sends a long diff (an app new to prod: ConfigMap, Service, Deployment) as a file and shows its start', async () => {
    const uploads = h.slack.uploads.length;
    const res = await h.command('deploy myapp prod 1.0.0 --dry-run', { channel: OPS });
    const id = res.responseUrl.split('/').pop();
    const answer = await h.slack.waitForResponse((r) => r.id === id && /Dry run/.test(String(r.body.text)), 10_000);
    expect(JSON.stringify(answer.body.blocks)).toContain('+ configmap myapp-config (namespace prod): created');
    expect(JSON.stringify(answer.body.blocks)).toContain('more lines in the attached file');
    const upload = h.slack.uploads.at(-1)!;
    expect(h.slack.uploads.length).toBe(uploads + 1);
    expect(upload.filename).toBe('dry-run.diff');
    const file = upload.bytes.toString('utf8');
    expect(file).toContain('+ deployment myapp (namespace prod): created');
    expect(file).toContain(`  + spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    expect(file).toContain('  + spec.replicas: 3');
    expect(file).toContain('+ service myapp (namespace prod): created');
    expect(h.kube.list('apps/v1', 'Deployment', 'prod')).toEqual([]);
    expect(h.kube.list('v1', 'Service', 'prod')).toEqual([]);
    for (const w of writesSince()) expect(w.query.dryRun).toBe('All');
  });

  it('deploy --canary: the canary Deployment it would create, the stable one untouched; no record, hold or expiry', async () => {
    const { text, blocks } = await dryRun('deploy myapp beta 2.0.0 --canary --dry-run');
    expect(text).toContain('Dry run of deploy myapp 2.0.0 → beta (canary)');
    expect(blocks).toContain('+ deployment myapp-canary (namespace beta): created');
    expect(blocks).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:2.0.0`);
    expect(blocks).toContain('+ spec.template.metadata.labels.track: canary');
    expect(blocks).not.toContain('deployment myapp (namespace beta)');
    // The same server-side apply the real start sends, as a dry run, and nothing else.
    expect(writesSince().map((w) => `${w.method} ${w.path} ${w.contentType ?? ''}`)).toEqual([
      'PATCH /apis/apps/v1/namespaces/beta/deployments/myapp-canary application/apply-patch+yaml',
    ]);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp-canary')).toBeUndefined();
    expect(await h.chatops.services.queue.getDelayedCount()).toBe(0);
    expect(await canaryStore(h.chatops.services).get('beta', 'myapp')).toBeUndefined();
    expect(await h.chatops.services.locks.holder('beta', 'myapp')).toBeUndefined();
  });

  it("resources: the container's new limit", async () => {
    const { blocks } = await dryRun('resources myapp beta --memory-limit 512Mi --dry-run');
    expect(blocks).toContain('- spec.template.spec.containers[myapp].resources.limits.memory: 256Mi');
    expect(blocks).toContain('+ spec.template.spec.containers[myapp].resources.limits.memory: 512Mi');
  });

  it('refuses, before sending it, any write a verb would make without dryRun=All (the safety net under every dry run)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(h.kubeconfig);
    const cluster = dryRunOnly(makeClusterClient('default', kc));
    const patch = (dry: { dryRun?: 'All' }) =>
      cluster.apps.patchNamespacedDeployment(
        { name: 'myapp', namespace: 'beta', body: { spec: { replicas: 7 } }, fieldManager: 'test', ...dry },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await expect(patch({})).rejects.toThrow(/dry run: refused to send PATCH .*deployments\/myapp without dryRun=All/);
    expect(h.kube.requests.length).toBe(requestsSince);
    expect((await patch({ dryRun: 'All' })).spec?.replicas).toBe(7);
    expect(deployment().spec.replicas).toBe(2);
    expect((await cluster.apps.readNamespacedDeployment({ name: 'myapp', namespace: 'beta' })).spec?.replicas).toBe(2);
  });

  it('label and debug: the node label added, the debug copy created; no pod, no label, nothing scheduled', async () => {
    const node = h.kube.list('v1', 'Node', undefined)[0].metadata.name as string;
    const { blocks } = await dryRun(`label ${node} pool=batch --dry-run`);
    expect(blocks).toContain(`~ node ${node}: changed`);
    expect(blocks).toContain('+ metadata.labels.pool: batch');
    expect(h.kube.get('v1', 'Node', undefined, node).metadata.labels.pool).toBeUndefined();

    since = h.slack.calls.at(-1)?.seq ?? 0;
    requestsSince = h.kube.requests.length;
    const pods = h.kube.list('v1', 'Pod', 'beta').length;
    const debug = await dryRun('debug myapp beta --ttl 30m --dry-run');
    expect(debug.blocks).toMatch(/\+ pod myapp-[a-z0-9-]+-debug-[0-9a-f]{6} \(namespace beta\): created/);
    expect(debug.blocks).toContain('+ spec.containers[myapp].command: [\\"sleep\\",\\"1800\\"]');
    expect(h.kube.list('v1', 'Pod', 'beta')).toHaveLength(pods);
    expect(await h.chatops.services.queue.getDelayedCount()).toBe(0);
  });

  it('is in the help: each write verb says so, read verbs do not', async () => {
    expect((await h.command('help deploy', { channel: OPS })).json.text).toContain('Add `--dry-run` to see what it would change');
    expect((await h.command('help status', { channel: OPS })).json.text).not.toContain('--dry-run');
    expect(JSON.stringify((await h.command('help', { channel: OPS })).json.blocks)).toContain('add `--dry-run`');
  });

  it.each([
    ['run myapp beta jvm-flags --dry-run', /`run` executes a command inside a pod; the Kubernetes API cannot dry-run an exec/],
    ['status beta --dry-run', /`status` changes nothing, so there is nothing to dry-run/],
    ['cancel cmd-0123456789abcdef01234567 --dry-run', /`cancel` does not change the cluster/],
  ])('refuses %s with the reason, and calls nothing', async (text, expected) => {
    const res = await h.command(text, { channel: OPS });
    expect(res.json.text).toMatch(expected);
    expect(h.kube.requests.length).toBe(requestsSince);
  });
});
