import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/** `/k8s resources` on a rendered app and on an adopted Deployment, and what it refuses. */
const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta, limits: { maxMemory: 2Gi, maxCpu: "2" } }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    progressDeadlineSeconds: 3
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
  legacy:
    image: registry.example.com/team/legacy
    workload: { kind: Deployment, name: legacy-web, container: web }
  store:
    image: registry.example.com/team/store
    kind: StatefulSet
    replicas: 1
    resources: { requests: { memory: 64Mi } }
channels:
  ${OPS}: { environments: ["*"], commands: ["*"] }
  C0DEV: { environments: [beta], commands: [deploy, status] }
alerts: []
`;

const h = useHarness({ name: 'resources', config: CONFIG });
let since = 0;
beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
});
beforeEach(() => {
  since = h.mark();
});

const threadText = (ts: string) => h.threadText(OPS, ts);
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const container = (name: string, c: string) => deployment(name).spec.template.spec.containers.find((x: any) => x.name === c);
const patches = (name: string) =>
  h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === `/apis/apps/v1/namespaces/beta/deployments/${name}`);

describe('a rendered app', () => {
  it('sets the memory limit, follows the rollout, and a later deploy keeps it', async () => {
    const res = await h.command('resources myapp beta --memory-limit 512Mi', { channel: OPS });
    expect(res.json.text).toContain('Queued `resources myapp in beta: memory limit → 512Mi`');
    const done = await h.waitForFinal(/:white_check_mark: resources myapp in beta: memory limit → 512Mi — done/, { since });
    expect(threadText(done.args.ts)).toContain('container myapp of deployment myapp in namespace beta: memory limit 256Mi → 512Mi');
    expect(container('myapp', 'myapp').resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(JSON.parse(deployment('myapp').metadata.annotations['k8s-chatops.io/resources'])).toEqual({ limits: { memory: '512Mi' } });
    const patch = patches('myapp').at(-1);
    expect(patch?.contentType).toContain('application/strategic-merge-patch+json');
    expect(patch?.query.fieldManager).toBe('k8s-chatops-set-resources');
    // The new pods run with the new limit.
    const pods = h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'myapp');
    expect(pods.map((p) => p.spec.containers[0].resources.limits.memory)).toEqual(['512Mi']);

    await h.deployAndWait('myapp', 'beta', '1.1.0', { channel: OPS });
    expect(container('myapp', 'myapp').image).toBe('registry.example.com/team/myapp:1.1.0');
    expect(container('myapp', 'myapp').resources.limits.memory).toBe('512Mi');
    expect(deployment('myapp').metadata.annotations['k8s-chatops.io/resources']).toBeDefined();
    const audited = await h.chatops.services.audit.recent({ verb: 'resources', app: 'myapp', env: 'beta', limit: 10 });
    expect(audited.map((e) => [e.outcome, e.command])).toContainEqual(['succeeded', 'resources myapp beta --memory-limit 512Mi']);
  });

  it('changes a rendered StatefulSet the same way, followed to the end', async () => {
    await h.deployAndWait('store', 'beta', '1.0.0', { channel: OPS });
    since = h.mark();
    await h.command('resources store beta --memory-limit 128Mi', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: resources store in beta: memory limit → 128Mi — done/, { since });
    const sts = h.kube.get('apps/v1', 'StatefulSet', 'beta', 'store');
    expect(sts.spec.template.spec.containers[0].resources).toEqual({ requests: { memory: '64Mi' }, limits: { memory: '128Mi' } });
  });

  it('is refused to a channel whose binding does not allow it, and changes nothing', async () => {
    const before = container('myapp', 'myapp').resources;
    const res = await h.command('resources myapp beta --memory-limit 1Gi', { channel: 'C0DEV' });
    expect(res.json.text).toMatch(/may not use `resources`/);
    expect(container('myapp', 'myapp').resources).toEqual(before);
  });

  it('adds to the kept values: a later request keeps the earlier limit across deploys', async () => {
    await h.command('resources myapp beta --cpu-request 200m --cpu-limit 1', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: resources myapp in beta: cpu request → 200m, cpu limit → 1 — done/, { since });
    await h.deployAndWait('myapp', 'beta', '1.2.0', { channel: OPS });
    expect(container('myapp', 'myapp').resources).toEqual({
      requests: { cpu: '200m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
  });
});

describe('an adopted Deployment', () => {
  it("changes only that container's resources; the sidecar, image and the rest stay", async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'legacy-web', namespace: 'beta' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'legacy' } },
        template: {
          metadata: { labels: { app: 'legacy' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'registry.example.com/team/legacy:1.0.0',
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
              },
              { name: 'proxy', image: 'envoyproxy/envoy:v1.30.0', resources: { requests: { cpu: '10m', memory: '32Mi' } } },
            ],
          },
        },
      },
    });
    await h.kube.waitFor(() => deployment('legacy-web')?.status?.availableReplicas === 1, 10_000, 'legacy-web available');
    const before = structuredClone(deployment('legacy-web'));

    await h.command('resources legacy beta --memory-request 96Mi --memory-limit 192Mi', { channel: OPS });
    const done = await h.waitForFinal(/:white_check_mark: resources legacy in beta: memory request → 96Mi, memory limit → 192Mi — done/, {
      since,
    });
    expect(threadText(done.args.ts)).toContain('memory request 64Mi → 96Mi, memory limit 128Mi → 192Mi');
    const after = deployment('legacy-web');
    expect(container('legacy-web', 'web').resources).toEqual({ requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '192Mi' } });
    expect(container('legacy-web', 'web').image).toBe('registry.example.com/team/legacy:1.0.0');
    expect(container('legacy-web', 'proxy')).toEqual(before.spec.template.spec.containers[1]);
    expect(after.spec.selector).toEqual(before.spec.selector);
    expect(after.spec.replicas).toBe(1);
    // Nothing to keep across deploys of an adopted app: deploy there changes only the image.
    expect(after.metadata.annotations['k8s-chatops.io/resources']).toBeUndefined();
    const writes = patches('legacy-web');
    expect(writes).toHaveLength(1);
    expect(writes[0]?.query.fieldManager).toBe('k8s-chatops-set-resources');
  });
});

describe('refusals change nothing', () => {
  it.each([
    ['resources myapp beta', /give at least one of --memory-request[\s\S]*Usage: `\/k8s resources &lt;app&gt; &lt;env&gt;/],
    ['resources myapp beta --memory-limit lots', /memory-limit: must be a Kubernetes quantity such as 512Mi or 1.5Gi/],
    [
      'resources myapp beta --memory-limit 512m',
      /memory-limit: must be at least 1Mi \(`512m` is 512 thousandths of a byte; did you mean `512Mi`\?\)/,
    ],
    ['resources myapp beta --cpu-limit -1', /cpu-limit: must be a Kubernetes quantity/],
    ['resources myapp beta --memory-limit 4Gi', /`beta` allows at most 2Gi for a memory limit \(`environments\.beta\.limits\.maxMemory`/],
    ['resources myapp beta --cpu-request 3', /`beta` allows at most 2 for a cpu request/],
    ['resources myapp beta --memory-request 1Gi --memory-limit 512Mi', /memory request 1Gi is above its limit 512Mi/],
    ['resources nope beta --memory-limit 1Gi', /There is no app `nope`/],
  ])('answers %s before anything is queued', async (text, expected) => {
    const before = h.kube.requests.length;
    const res = await h.command(text, { channel: OPS });
    expect(res.json.text).toMatch(expected);
    expect(h.kube.requests.length).toBe(before);
  });

  it('refuses a request above the limit the container would keep, and patches nothing', async () => {
    const writes = patches('myapp').length;
    const generation = deployment('myapp').metadata.generation;
    const res = await h.command('resources myapp beta --memory-request 1Gi', { channel: OPS });
    const answer = await h.answer(res.responseUrl);
    expect(answer.body.text).toMatch(
      /With this change the memory request 1Gi is above its limit 512Mi in container `myapp`.*Nothing was changed/,
    );
    expect(patches('myapp')).toHaveLength(writes);
    expect(deployment('myapp').metadata.generation).toBe(generation);
  });
});
