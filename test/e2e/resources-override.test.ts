/** Requests and limits set in chat on a rendered app: `status` and `deploy` point them out, `resources --reset` drops them. */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const DEV = 'C0DEV';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod:
    cluster: default
    namespace: prod
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, allowSelfApproval: false, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    progressDeadlineSeconds: 5
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
  legacy:
    image: registry.example.com/team/legacy
    workload: { kind: Deployment, name: legacy-web, container: web }
channels:
  ${OPS}: { environments: ["*"], commands: ["*"] }
  ${DEV}: { environments: [beta], commands: [deploy, status] }
alerts: []
`;
const CONFIGURED = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
const OVERRIDE = ['k8s-chatops.io/resources', 'k8s-chatops.io/resources-set-by', 'k8s-chatops.io/resources-set-at'];

const h = useHarness({ name: 'resources-override', config: CONFIG });
let since = 0;
const finalUpdate = (match: RegExp) => h.waitForFinal(match, { since });
/** The private answer whose text (or blocks) matches, as one string. */
const answer = async (res: { responseUrl: string }, match = /./) => {
  const r = await h.answer(res.responseUrl, (text) => match.test(text));
  return `${String(r.body.text)}\n${JSON.stringify(r.body.blocks ?? [])}`;
};
const deployment = (env = 'beta') => h.kube.get('apps/v1', 'Deployment', env, 'myapp');
const resources = (env = 'beta') => deployment(env).spec.template.spec.containers[0].resources;
const annotations = (env = 'beta') => deployment(env).metadata.annotations as Record<string, string>;
const status = async (env = 'beta') => answer(await h.command(`status myapp ${env}`, { channel: OPS }), /myapp/);

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
});
beforeEach(() => {
  since = h.mark();
});

describe('an override set from chat', () => {
  it('is shown by status, with who set it, when, and each value beside the config’s', async () => {
    expect(await status()).not.toContain('Resources set from chat');
    await h.command('resources myapp beta --memory-limit 512Mi --cpu-limit 1', { channel: OPS, user: 'U0ALICE' });
    await finalUpdate(/:white_check_mark: resources myapp in beta: cpu limit → 1, memory limit → 512Mi — done/);
    expect(annotations()['k8s-chatops.io/resources-set-by']).toBe('U0ALICE');
    expect(Date.parse(annotations()['k8s-chatops.io/resources-set-at'] ?? '')).toBeGreaterThan(Date.now() - 60_000);
    const shown = await status();
    expect(shown).toMatch(
      /:pencil2: \*Resources set from chat\* by <@U0ALICE> \(<!date\^\d+\^[^>]*>\): cpu limit 1 \(config: none\), memory limit 512Mi \(config: 256Mi\)\. Every deploy to `beta` keeps them; `\/k8s resources myapp beta --reset` goes back to the bot's config\./,
    );
  });

  it('is named in the final message of a deploy that keeps it', async () => {
    const done = await h.deployAndWait('myapp', 'beta', '1.1.0', { channel: OPS });
    expect(h.threadText(OPS, String(done.args.ts))).toContain(
      'kept resources set from chat: cpu limit 1 (config: none), memory limit 512Mi (config: 256Mi) (`resources myapp beta --reset` drops them)',
    );
    expect(resources().limits).toEqual({ cpu: '1', memory: '512Mi' });
  });
});

describe('resources --reset', () => {
  it('is refused before anything is queued: for an adopted app (with the reason), with values, or where the channel may not', async () => {
    const before = h.kube.requests.length;
    const adopted = await h.command('resources legacy beta --reset', { channel: OPS });
    expect(adopted.json.text).toContain("`legacy` is adopted (`apps.legacy.workload`): the bot's config holds no resources for it");
    const both = await h.command('resources myapp beta --reset --memory-limit 1Gi', { channel: OPS });
    expect(both.json.text).toContain('give `--reset` alone');
    expect(both.json.text).toContain('Usage: `/k8s resources');
    const dev = await h.command('resources myapp beta --reset', { channel: DEV });
    expect(dev.json.text).toMatch(/may not use `resources`/);
    expect(h.kube.requests.length).toBe(before);
  });

  it('--dry-run answers with the diff back to the config and writes nothing', async () => {
    const rv = deployment().metadata.resourceVersion;
    const res = await h.command('resources myapp beta --reset --dry-run', { channel: OPS });
    const shown = await answer(res, /Dry run/);
    expect(shown).toContain('Dry run of resources myapp in beta: back to the bot');
    expect(shown).toContain('- spec.template.spec.containers[myapp].resources.limits.memory: 512Mi');
    expect(shown).toContain('+ spec.template.spec.containers[myapp].resources.limits.memory: 256Mi');
    expect(shown).toContain('- spec.template.spec.containers[myapp].resources.limits.cpu: \\"1\\"');
    expect(shown).toContain('- metadata.annotations[\\"k8s-chatops.io/resources-set-by\\"]: U0ALICE');
    expect(deployment().metadata.resourceVersion).toBe(rv);
  });

  it('puts the container back on the config, drops the override, follows the rollout and is audited; deploys use the config again', async () => {
    await h.command('resources myapp beta --reset', { channel: OPS, user: 'U0BOB' });
    const done = await finalUpdate(/:white_check_mark: resources myapp in beta: back to the bot's config — done/);
    const thread = h.threadText(OPS, String(done.args.ts));
    expect(thread).toContain("back to the bot's config: cpu limit 1 → none, memory limit 512Mi → 256Mi");
    expect(thread).toContain('the override set from chat is gone');
    expect(resources()).toEqual(CONFIGURED);
    for (const key of OVERRIDE) expect(annotations()[key]).toBeUndefined();
    const pods = h.kube
      .list('v1', 'Pod', 'beta')
      .filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'myapp' && !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0].resources.limits)).toEqual([{ memory: '256Mi' }]);
    // The audit entry is written after the thread's last word: wait for it.
    await vi.waitFor(
      async () => {
        const audited = await h.chatops.services.audit.recent({ verb: 'resources', app: 'myapp', env: 'beta', limit: 10 });
        expect(audited.map((e) => [e.outcome, e.command])).toContainEqual(['succeeded', 'resources myapp beta --reset']);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await status()).not.toContain('Resources set from chat');

    const deployed = await h.deployAndWait('myapp', 'beta', '1.2.0', { channel: OPS });
    expect(h.threadText(OPS, String(deployed.args.ts))).not.toContain('kept resources set from chat');
    expect(resources()).toEqual(CONFIGURED);
  });

  it('with nothing set from chat and the config’s values live, says there is nothing to reset and writes nothing', async () => {
    const rv = deployment().metadata.resourceVersion;
    const res = await h.command('resources myapp beta --reset', { channel: OPS });
    expect(await answer(res, /nothing to reset/)).toContain('No resources were set from chat for `myapp` in `beta`');
    expect(deployment().metadata.resourceVersion).toBe(rv);
  });

  it('in an environment with approvals, asks with the diff and resets once approved', async () => {
    const ask = async (text: string) => {
      const mark = h.mark();
      const ack = await h.command(text, { channel: OPS, user: 'U0DEV' });
      expect(ack.json.text).toContain('needs approval');
      return h.waitForApproval({ since: mark });
    };
    const approve = (request: { ts: string; value: string }) => h.clickApproval(request, 'U0OPSLEAD');

    await approve(await ask('deploy myapp prod 1.0.0'));
    await finalUpdate(/:white_check_mark: deploy myapp 1\.0\.0 → prod — done/);
    since = h.mark();
    await approve(await ask('resources myapp prod --memory-request 200Mi'));
    await finalUpdate(/:white_check_mark: resources myapp in prod: memory request → 200Mi — done/);
    expect(resources('prod').requests.memory).toBe('200Mi');

    since = h.mark();
    const reset = await ask('resources myapp prod --reset');
    const request = JSON.stringify(reset.message.args.blocks);
    expect(request).toContain('- spec.template.spec.containers[myapp].resources.requests.memory: 200Mi');
    expect(request).toContain('+ spec.template.spec.containers[myapp].resources.requests.memory: 128Mi');
    expect(resources('prod').requests.memory).toBe('200Mi');
    await approve(reset);
    await finalUpdate(/:white_check_mark: resources myapp in prod: back to the bot's config — done/);
    expect(resources('prod')).toEqual(CONFIGURED);
    expect(annotations('prod')['k8s-chatops.io/resources']).toBeUndefined();
  });
});
