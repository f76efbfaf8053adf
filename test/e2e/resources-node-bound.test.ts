/** With no `limits` on the environment, `resources` refuses a value larger than any node's allocatable (a typo would leave pods Pending). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod, limits: { maxMemory: 1Ti } }
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
  h = await startHarness({ name: 'resources-node-bound', config: CONFIG });
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

  it('leaves a resource the environment bounds to its bound, reading no nodes for it', async () => {
    await h.deployAndWait('myapp', 'prod', '1.0.0', { channel: OPS });
    const nodeReads = h.kube.requests.filter((r) => r.path === '/api/v1/nodes' && !r.query.watch).length;
    const ask = await h.command('resources myapp prod --memory-limit 500Gi --dry-run', { channel: OPS });
    const res = await h.answer(ask.responseUrl, /Dry run/);
    expect(JSON.stringify(res.body.blocks)).toContain('+ spec.template.spec.containers[myapp].resources.limits.memory: 500Gi');
    expect(h.kube.requests.filter((r) => r.path === '/api/v1/nodes' && !r.query.watch).length).toBe(nodeReads);
  });
});
