/**
 * `resources` refuses a value larger than any node's allocatable (a typo would leave pods Pending), whatever the
 * environment's `limits` allow: the tighter bound refuses, before any approval is asked and with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod, limits: { maxMemory: 1Ti, maxCpu: "64" } }
  stage:
    cluster: default
    namespace: stage
    limits: { maxMemory: 1Ti }
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, allowSelfApproval: false, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
channels:
  ${OPS}: { environments: ["*"], commands: ["*"] }
alerts: []
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ name: 'resources-node-bound', config: CONFIG, namespaces: ['default', 'beta', 'prod', 'stage'] });
  // The emulator's nodes have 4 CPUs and 8Gi; one bigger node sets the bound.
  h.kube.addNode('node-big', { cpu: '16', memory: '64Gi' });
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
});
afterAll(async () => {
  await h?.stop();
});

const deployment = (env = 'beta') => h.kube.get('apps/v1', 'Deployment', env, 'myapp');
const patches = (env = 'beta') =>
  h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === `/apis/apps/v1/namespaces/${env}/deployments/myapp`);

describe('resources in an environment without limits', () => {
  it.each([
    [
      '--memory-limit 500Gi',
      "`--memory-limit 500Gi` is more than any node of `beta`'s cluster has: the largest allocatable memory is 64Gi (node `node-big`)",
    ],
    [
      '--cpu-request 32',
      "`--cpu-request 32` is more than any node of `beta`'s cluster has: the largest allocatable cpu is 16 (node `node-big`)",
    ],
  ])('refuses %s, naming the largest node, and writes nothing', async (flags, expected) => {
    const writes = patches().length;
    const generation = deployment().metadata.generation;
    const res = await h.command(`resources myapp beta ${flags}`, { channel: OPS });
    const answer = await h.answer(res.responseUrl, /never be scheduled/);
    expect(String(answer.body.text)).toContain(expected);
    expect(String(answer.body.text)).toContain('Nothing was changed.');
    expect(patches()).toHaveLength(writes);
    expect(deployment().metadata.generation).toBe(generation);
  });

  it('lets through a value the largest node has (more than the others), followed to the end', async () => {
    const since = h.mark();
    await h.command('resources myapp beta --memory-limit 60Gi', { channel: OPS });
    await h.waitForFinal(/resources myapp in beta: memory limit → 60Gi — (done|failed)/, { since });
    expect(deployment().spec.template.spec.containers[0].resources.limits.memory).toBe('60Gi');
  });
});

describe('resources in an environment whose limits allow more than any node has', () => {
  beforeAll(async () => {
    await h.deployAndWait('myapp', 'prod', '1.0.0', { channel: OPS });
  });

  it.each([
    ['--memory-limit 500Gi', 'the largest allocatable memory is 64Gi (node `node-big`)', '`environments.prod.limits.maxMemory` allows 1Ti'],
    ['--cpu-limit 32', 'the largest allocatable cpu is 16 (node `node-big`)', '`environments.prod.limits.maxCpu` allows 64'],
    ['--memory-request 100Gi --memory-limit 200Gi', 'the largest allocatable memory is 64Gi', 'the largest node is the tighter bound'],
  ])('refuses %s by the largest node (dry run too), and writes nothing', async (flags, largest, bound) => {
    const writes = patches('prod').length;
    const generation = deployment('prod').metadata.generation;
    for (const dry of ['', ' --dry-run']) {
      const res = await h.command(`resources myapp prod ${flags}${dry}`, { channel: OPS });
      const text = String((await h.answer(res.responseUrl, /never be scheduled/)).body.text);
      expect(text).toContain("is more than any node of `prod`'s cluster has");
      expect(text).toContain(largest);
      expect(text).toContain(bound);
      expect(text).toContain('Nothing was changed.');
    }
    expect(patches('prod')).toHaveLength(writes);
    expect(deployment('prod').metadata.generation).toBe(generation);
  });

  it('applies what is within both bounds, followed to the end', async () => {
    const since = h.mark();
    await h.command('resources myapp prod --memory-limit 48Gi --cpu-request 2', { channel: OPS });
    await h.waitForFinal(/resources myapp in prod: cpu request → 2, memory limit → 48Gi — done/, { since });
    const resources = deployment('prod').spec.template.spec.containers[0].resources;
    expect(resources.limits.memory).toBe('48Gi');
    expect(resources.requests.cpu).toBe('2');
  });

  it('refuses before any approval is requested, and asks approvers only for a value a node has', async () => {
    const deployed = h.mark();
    await h.command('deploy myapp stage 1.0.0', { channel: OPS, user: 'U0DEV' });
    await h.clickApproval(await h.waitForApproval({ since: deployed }), 'U0OPSLEAD');
    await h.waitForFinal(/deploy myapp 1\.0\.0 → stage — done/, { since: deployed });
    const generation = h.kube.get('apps/v1', 'Deployment', 'stage', 'myapp').metadata.generation;

    const since = h.mark();
    const ack = await h.command('resources myapp stage --memory-limit 500Gi', { channel: OPS, user: 'U0DEV' });
    expect(ack.json.text).toContain('needs approval');
    const text = String((await h.answer(ack.responseUrl, /never be scheduled/)).body.text);
    expect(text).toContain("`--memory-limit 500Gi` is more than any node of `stage`'s cluster has");
    // The refusal is the job's answer: an approval request, had there been one, was posted before it.
    expect(h.slack.calls.filter((c) => c.seq > since && /Approval needed/.test(String(c.args.text)))).toHaveLength(0);
    expect(h.kube.get('apps/v1', 'Deployment', 'stage', 'myapp').metadata.generation).toBe(generation);

    const asked = h.mark();
    await h.command('resources myapp stage --memory-limit 40Gi', { channel: OPS, user: 'U0DEV' });
    const request = await h.waitForApproval({ since: asked });
    expect(JSON.stringify(request.message.args.blocks)).toContain('+ spec.template.spec.containers[myapp].resources.limits.memory: 40Gi');
  });

  it('when the nodes cannot be read, refuses a raise and says why, and lets a lower value through', async () => {
    h.kube.deny({ verb: 'list', resource: 'nodes' });
    try {
      const writes = patches('prod').length;
      const res = await h.command('resources myapp prod --memory-limit 60Gi', { channel: OPS });
      const text = String((await h.answer(res.responseUrl, /rather than guess/)).body.text);
      expect(text).toContain('`--memory-limit 60Gi` raises the memory limit of `myapp` (48Gi now)');
      expect(text).toContain(
        "the nodes of `prod`'s cluster could not be read, so the bot cannot tell whether any node has that much memory",
      );
      expect(text).toContain("Reading the nodes: The bot's Kubernetes identity may not do this");
      expect(text).toContain('`environments.prod.limits.maxMemory: 1Ti` alone does not say that a node has it.');
      expect(text).toContain('Nothing was changed.');
      expect(patches('prod')).toHaveLength(writes);

      const since = h.mark();
      await h.command('resources myapp prod --memory-limit 32Gi', { channel: OPS });
      await h.waitForFinal(/resources myapp in prod: memory limit → 32Gi — done/, { since });
      expect(deployment('prod').spec.template.spec.containers[0].resources.limits.memory).toBe('32Gi');
    } finally {
      h.kube.clearDenies();
    }
  });
});
