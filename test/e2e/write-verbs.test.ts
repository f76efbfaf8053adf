import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E2E_CONFIG, startHarness, type Harness } from '../support/harness.js';
import { KubeConfig } from '@kubernetes/client-node';
import { checksum } from '../../src/kube/render.js';
import { loadVerbs } from '../../src/command/registry.js';
import { parseCommand } from '../../src/command/parse.js';
import type { WorkerVerb, WorkerVerbContext } from '../../src/command/types.js';
import { makeClusterClient } from '../../src/kube/clusters.js';
import { keysHolding } from '../support/redis.js';
import { until } from '../support/redis-topologies.js';

/** The harness config, with a secret key on myapp and an app `single` whose Deployment kubectl made. */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace('    env: { LOG_LEVEL: info }\n', '    env: { LOG_LEVEL: info }\n    secretKeys: [DB_PASSWORD]\n')
    .replace('  hungry:\n', '  single:\n    image: registry.example.com/other/single\n  hungry:\n');
const IMAGE = 'registry.example.com/team/myapp';
const OPS = 'C0OPS';

let h: Harness;
let since = 0;
beforeAll(async () => {
  h = await startHarness({ name: 'write-verbs', config: CONFIG });
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  since = h.mark();
});

const threadText = (ts: string) => h.threadText(OPS, ts);
/** What the worker told the requester privately (through the command's response_url). */
const privateAnswer = (responseUrl: string, match?: RegExp) => h.answer(responseUrl, match);

/** The value of the chatops_run button in a message's blocks. */
function buttonValue(blocks: any[] | undefined): string | undefined {
  const button = (blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .find((e: any) => e.action_id === 'chatops_run');
  return button?.value;
}

const deployment = (name = 'myapp', ns = 'beta') => h.kube.get('apps/v1', 'Deployment', ns, name);
const myappPods = (): string[] =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'myapp')
    .map((p) => p.metadata.name);
const workloadRequests = () => h.kube.requests.filter((r) => !r.path.includes('selfsubjectaccessreviews')).length;

/** A Deployment the bot's config does not know, created as kubectl would. */
async function createForeignDeployment(name: string, opts: { paused?: boolean } = {}) {
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

describe('/k8s scale', () => {
  it('scales through the scale subresource, says from how many to how many, and follows until settled', async () => {
    const res = await h.command('scale myapp beta 3', { channel: OPS });
    expect(res.json.text).toContain('Queued `scale myapp in beta to 3`');
    const done = await h.waitForFinal(/:white_check_mark: scale myapp in beta to 3 — done/, { since });
    const thread = threadText(done.args.ts);
    expect(thread).toContain('scaled from 2 to 3 replicas');
    expect(thread).toContain('the next `deploy` sets it back to 2');
    expect(deployment().spec.replicas).toBe(3);
    expect(deployment().status.availableReplicas).toBe(3);
    const patch = h.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/beta/deployments/myapp/scale')
      .at(-1);
    expect(patch?.contentType).toContain('application/merge-patch+json');
    expect(patch?.query.fieldManager).toBe('k8s-chatops-scale');
  });

  it.each([
    ['scale myapp beta 51', /`beta` allows at most 50 replicas \(`environments\.beta\.maxReplicas`/],
    [
      'scale myapp beta three',
      /replicas must be a whole number[\s\S]*Usage: `\/k8s scale &lt;app&gt; &lt;env&gt; &lt;replicas&gt; \[--yes\]`/,
    ],
    ['scale myapp beta -1', /Unknown option|replicas must be a whole number/],
    ['scale myapp', /Missing `&lt;env&gt;`/],
  ])('answers %s with the reason, and calls nothing', async (text, expected) => {
    const before = workloadRequests();
    const res = await h.command(text, { channel: OPS });
    expect(res.json.text).toMatch(expected);
    expect(workloadRequests()).toBe(before);
  });

  it('asks before scaling to 0, with a button that does it', async () => {
    const res = await h.command('scale myapp beta 0', { channel: OPS });
    const ask = await privateAnswer(res.responseUrl, /Scaling myapp in beta to 0/);
    expect(ask.body.response_type).toBe('ephemeral');
    expect(ask.body.text).toContain('stops all 3 of its pods');
    expect(JSON.stringify(ask.body.blocks)).toContain('Scale myapp in beta to 0');
    expect(deployment().spec.replicas).toBe(3);

    const value = buttonValue(ask.body.blocks);
    expect(value).toBeDefined();
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: '1700000000.000100',
      action_id: 'chatops_run',
      value: value!,
      response_url: h.slack.newResponseUrl(),
    });
    await h.waitForFinal(/:white_check_mark: scale myapp in beta to 0 — done/, { since });
    expect(deployment().spec.replicas).toBe(0);
    expect(myappPods()).toHaveLength(0);

    await h.command('scale myapp beta 2', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: scale myapp in beta to 2 — done/, { since });
  });

  it('says plainly when the app is not in the config, before anything is queued', async () => {
    const res = await h.command('scale nope beta 2', { channel: OPS });
    expect(res.json.text).toMatch(/There is no app `nope` in the bot's config .*The bot acts only on configured apps/);
    expect(res.json.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('says plainly when a configured app has not been deployed', async () => {
    const res = await h.command('scale hungry beta 2', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(/deployment hungry in namespace beta not found — has it been deployed\?/);
  });

  it('refuses a channel that may not scale, and says what it may do', async () => {
    const res = await h.command('scale myapp beta 3');
    expect(res.json.text).toMatch(/may not use `scale`.*may run `deploy`, `status`/s);
    expect(deployment().spec.replicas).toBe(2);
  });
});

describe('/k8s restart', () => {
  it('restarts like kubectl rollout restart: a restartedAt annotation, new pods, followed to the end', async () => {
    const podsBefore = myappPods();
    await h.command('restart myapp beta', { channel: OPS });
    const done = await h.waitForFinal(/:white_check_mark: restart myapp in beta — done/, { since });
    const restartedAt = deployment().spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'];
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(threadText(done.args.ts)).toContain(`restart requested at ${restartedAt}`);
    const podsAfter = myappPods();
    expect(podsAfter).toHaveLength(2);
    expect(podsAfter.filter((p) => podsBefore.includes(p))).toEqual([]);
    const patch = h.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/beta/deployments/myapp')
      .at(-1);
    expect(patch?.contentType).toContain('application/strategic-merge-patch+json');
  });

  it('acts only on the apps in the config: another Deployment in the namespace is refused and left alone', async () => {
    await createForeignDeployment('legacy');
    const res = await h.command('restart legacy beta', { channel: OPS });
    expect(res.json.text).toMatch(/There is no app `legacy` in the bot's config/);
    expect(deployment('legacy').spec.template.metadata.annotations).toBeUndefined();
  });

  it('refuses a paused Deployment and changes nothing', async () => {
    await createForeignDeployment('hungry', { paused: true });
    const res = await h.command('restart hungry beta', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(/deployment hungry in namespace beta is paused.*kubectl rollout resume deployment\/hungry -n beta/);
    expect(deployment('hungry').spec.template.metadata.annotations).toBeUndefined();
  });
});

describe('/k8s rollback', () => {
  it('goes back to the previous revision as kubectl rollout undo does, and follows the rollout', async () => {
    await h.deployAndWait('myapp', 'beta', '1.1.0', { channel: OPS });
    const replicaSets = h.kube.list('apps/v1', 'ReplicaSet', 'beta').length;
    since = h.mark();

    await h.command('rollback myapp beta', { channel: OPS });
    const done = await h.waitForFinal(/:white_check_mark: rollback myapp in beta — done/, { since });
    expect(threadText(done.args.ts)).toMatch(
      /rolled back from revision \d+ to revision \d+ .*image registry\.example\.com\/team\/myapp:1\.1\.0 → registry\.example\.com\/team\/myapp:1\.0\.0/,
    );
    const d = deployment();
    expect(d.spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
    expect(d.spec.template.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(d.metadata.annotations['k8s-chatops.io/deployed-by']).toBe('dev');
    // The old ReplicaSet is reused, as for kubectl: no new one.
    expect(h.kube.list('apps/v1', 'ReplicaSet', 'beta')).toHaveLength(replicaSets);
    const patch = h.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/beta/deployments/myapp')
      .at(-1);
    expect(patch?.contentType).toContain('application/json-patch+json');
  });

  it('goes back to a given revision, and lists the revisions when there is no such one', async () => {
    const res = await h.command('rollback myapp beta 99', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(
      /deployment myapp in namespace beta has no revision 99; its revisions are \d+ \(registry\.example\.com\/team\/myapp:1\.0\.0\)/,
    );

    const revisionOf110 = h.kube
      .list('apps/v1', 'ReplicaSet', 'beta')
      .find((rs) => rs.spec.template.spec.containers[0].image === `${IMAGE}:1.1.0`).metadata.annotations[
      'deployment.kubernetes.io/revision'
    ];
    since = h.mark();
    await h.command(`rollback myapp beta ${revisionOf110}`, { channel: OPS });
    await h.waitForFinal(new RegExp(`:white_check_mark: rollback myapp in beta to revision ${revisionOf110} — done`), { since });
    expect(deployment().spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.1.0`);
  });

  it('refuses clearly when there is nothing to roll back to', async () => {
    await createForeignDeployment('single');
    const before = deployment('single').metadata.resourceVersion;
    const res = await h.command('rollback single beta', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(
      /Nothing to roll back to: deployment single in namespace beta has only one revision, 1 \(registry\.example\.com\/other\/single:1\)/,
    );
    expect(deployment('single').metadata.resourceVersion).toBe(before);
  });

  it('refuses a bad revision before queueing anything', async () => {
    const res = await h.command('rollback myapp beta 0', { channel: OPS });
    expect(res.json.text).toMatch(/revision must be a revision number/);
  });
});

describe('the Rollback button of a failed deploy', () => {
  it("rolls back in the failed deploy's thread, once", async () => {
    h.kube.setImageBehavior(`${IMAGE}:9.9.9-typo`, { kind: 'imagePullFailure' });
    await h.command('deploy myapp beta 9.9.9-typo', { channel: OPS });
    const failed = await h.waitForFinal(/:x: deploy myapp 9\.9\.9-typo → beta — failed/, { since });
    const threadTs = failed.args.ts as string;
    const offer = h.slack.thread(OPS, threadTs).find((m) => buttonValue(m.blocks));
    expect(offer, 'a thread message with the Rollback button').toBeDefined();
    expect(JSON.stringify(offer!.blocks)).toMatch(/"text":"Rollback"/);
    expect(offer!.text).toContain('ImagePullBackOff');
    expect(deployment().spec.template.spec.containers[0].image).toBe(`${IMAGE}:9.9.9-typo`);

    const click = (responseUrl: string) =>
      h.click({
        user_id: 'U0OPS',
        channel_id: OPS,
        message_ts: offer!.ts,
        thread_ts: threadTs,
        action_id: 'chatops_run',
        value: buttonValue(offer!.blocks)!,
        response_url: responseUrl,
      });
    await click(h.slack.newResponseUrl());
    const done = await h.waitForFinal(/:white_check_mark: rollback myapp in beta to revision \d+ — done/, { since });
    expect(deployment().spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.1.0`);
    // The rollback's own headline (posted as :rocket:, then turned ✅) and its progress are replies in the failed deploy's thread.
    const headline = h.slack.message(OPS, done.args.ts);
    expect(headline?.thread_ts).toBe(threadTs);
    expect(headline?.versions[0]?.text).toMatch(/^:rocket: rollback myapp in beta to revision \d+, requested by <@U0OPS>/);
    expect(threadText(threadTs)).toMatch(
      /rolled back from revision \d+ to revision \d+ .*9\.9\.9-typo → registry\.example\.com\/team\/myapp:1\.1\.0/,
    );

    // A second click does not roll "back" to the failed version: the revision it names is gone.
    const second = h.slack.newResponseUrl();
    await click(second);
    const refused = await privateAnswer(second, /has no revision/);
    expect(refused.body.text).toMatch(/deployment myapp in namespace beta has no revision \d+/);
    expect(deployment().spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.1.0`);
  });
});

describe('/k8s config', () => {
  it('sets keys, stamps the new checksum on the pod template and follows the pods rolling', async () => {
    await h.command('config myapp beta set LOG_LEVEL=debug DB_PASSWORD=hunter2 FEATURE_X=on&amp;off', { channel: OPS });
    const done = await h.waitForFinal(/:white_check_mark: config set LOG_LEVEL, DB_PASSWORD, FEATURE_X on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data).toEqual({ LOG_LEVEL: 'debug', DB_PASSWORD: 'hunter2', FEATURE_X: 'on&off' });
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));
    const thread = threadText(done.args.ts);
    expect(thread).toContain('LOG_LEVEL: `info` → `debug`');
    expect(thread).toContain('DB_PASSWORD = `••••••` (new)');
    expect(thread).toContain('the next deploy puts LOG_LEVEL back to `info`');
    expect(JSON.stringify(h.slack.calls.filter((c) => c.seq > since))).not.toContain('hunter2');
    const patch = h.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/beta/configmaps/myapp-config')
      .at(-1);
    expect(patch?.contentType).toContain('application/merge-patch+json');
    expect(patch?.query.fieldManager).toBe('k8s-chatops-config');
  });

  it('keeps no secret value in Redis: the job carries it sealed and drops even that when it ends', async () => {
    const ack = await h.command('config myapp beta set DB_PASSWORD=s3cr3t-in-transit LOG_LEVEL=warn', { channel: OPS });
    const jobId = /job `(cmd-[a-f0-9]+)`/.exec(JSON.stringify(ack.json.blocks))![1]!;
    const queued = await h.chatops.queue.getJob(jobId);
    expect((queued?.data.args as { words: string[] }).words).toEqual(['DB_PASSWORD=••••••', 'LOG_LEVEL=warn']);
    await h.waitForFinal(/:white_check_mark: config set DB_PASSWORD, LOG_LEVEL on myapp in beta — done/, { since });
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data.DB_PASSWORD).toBe('s3cr3t-in-transit');
    // The finished job keeps its (masked) data for its retention, without the sealed copy.
    await until(async () => (await h.chatops.queue.getJob(jobId))?.data.sealedArgs === undefined, 5_000, 'the sealed arguments dropped');
    expect(await keysHolding(h.prefix, 's3cr3t-in-transit')).toEqual([]);
    expect(await keysHolding(h.prefix, `"sealedArgs"`)).toEqual([]);
    // Back to what the next tests expect.
    since = h.mark();
    await h.command('config myapp beta set DB_PASSWORD=hunter2 LOG_LEVEL=debug', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config set DB_PASSWORD, LOG_LEVEL on myapp in beta — done/, { since });
  });

  it('shows keys and values, with secret keys masked', async () => {
    const res = await h.command('config myapp beta get', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toContain('LOG_LEVEL=debug');
    expect(answer.body.text).toContain('DB_PASSWORD=••••••');
    // Slack mrkdwn: &, < and > are escaped wherever text is shown.
    expect(answer.body.text).toContain('FEATURE_X=on&amp;off');
    expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    expect(JSON.stringify(answer.body.blocks)).toContain('```');
  });

  it('unsets keys, and says so when there is nothing to change', async () => {
    await h.command('config myapp beta unset FEATURE_X', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config unset FEATURE_X on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data.FEATURE_X).toBeUndefined();
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));

    const again = await h.command('config myapp beta unset FEATURE_X', { channel: OPS });
    expect((await privateAnswer(again.responseUrl)).body.text).toContain('Nothing to change: FEATURE_X is not set for myapp in beta');
  });

  it('keeps keys added in chat over a deploy, and puts back the configured values', async () => {
    await h.command('config myapp beta set EXTRA=1', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config set EXTRA on myapp in beta — done/, { since });
    await h.deployAndWait('myapp', 'beta', '1.2.0', { channel: OPS });
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data).toEqual({ LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2', EXTRA: '1' });
  });

  it('rolls the pods even when the checksum a deploy stamped already matches the new data', async () => {
    // deploy stamps the checksum of the config file's keys only, so dropping the chat-only keys yields that very checksum.
    const podsBefore = myappPods();
    await h.command('config myapp beta unset EXTRA DB_PASSWORD', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config unset EXTRA, DB_PASSWORD on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data).toEqual({ LOG_LEVEL: 'info' });
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));
    const podsAfter = myappPods();
    expect(podsAfter).toHaveLength(2);
    expect(podsAfter.filter((p) => podsBefore.includes(p))).toEqual([]);
  });

  it.each([
    ['config myapp beta set 1BAD=x', /`1BAD` is not a valid key/],
    ['config myapp beta set GREETING=hello world', /`world` is not KEY=VALUE \(values cannot contain spaces/],
    ['config myapp beta set', /give at least one KEY=VALUE/],
    ['config myapp beta unset A=1', /`unset` takes keys only/],
    ['config myapp beta get LOG_LEVEL', /takes nothing more/],
    ['config myapp beta show', /the action is `get`, `set KEY=VALUE\.\.\.` or `unset KEY\.\.\.`/],
    [`config myapp beta set ${Array.from({ length: 21 }, (_, i) => `K${i}=v`).join(' ')}`, /at most 20 keys per command/],
    ['config nope beta get', /no app `nope`/],
  ])('answers %s with the reason, and calls nothing', async (text, expected) => {
    const before = workloadRequests();
    const res = await h.command(text, { channel: OPS });
    expect(res.json.text).toMatch(expected);
    expect(workloadRequests()).toBe(before);
  });

  it('says plainly when the app has never been deployed to the environment', async () => {
    const res = await h.command('config myapp prod get', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(
      /configmap myapp-config in namespace prod not found — has myapp been deployed to prod\? Try `\/k8s deploy myapp prod`/,
    );
  });
});

describe('what an approver is shown, and what needs no approval', () => {
  /** Runs a verb's preview hook against the emulator, as the approval gate does before posting a request. */
  async function preview(text: string): Promise<string[]> {
    const { verb, args } = parseCommand(text, await loadVerbs());
    const kc = new KubeConfig();
    kc.loadFromFile(h.kubeconfig);
    const cluster = makeClusterClient('emulator', kc);
    const request = { requestId: 'preview', text, userId: 'U0OPS', channelId: OPS, receivedAt: Date.now() };
    const ctx = {
      args,
      request,
      config: h.chatops.config,
      environment: (name: string) => ({ name, namespace: name, cluster }),
    } as unknown as WorkerVerbContext<unknown>;
    return (verb as WorkerVerb).preview!(ctx);
  }

  it('previews each change in a line', async () => {
    expect(await preview('scale myapp beta 0 --yes')).toEqual(['replicas 2 → 0 (stops every pod)']);
    expect(await preview('restart myapp beta')).toEqual([
      expect.stringMatching(/^replace every pod of myapp \(2 pods\) in a rolling update/),
    ]);
    // The previous revision is the last config change's: same image, other config checksum.
    expect(await preview('rollback myapp beta')).toEqual([
      expect.stringMatching(/^revision \d+ → \d+$/),
      expect.stringMatching(/^image .*myapp:1\.2\.0 → .*myapp:1\.2\.0$/),
    ]);
    expect(await preview('config myapp beta set LOG_LEVEL=warn DB_PASSWORD=x')).toEqual([
      'LOG_LEVEL: `info` → `warn`',
      'DB_PASSWORD = `••••••` (new)',
    ]);
  });

  it('treats config get and an unconfirmed scale to 0 as changing nothing', async () => {
    const verbs = await loadVerbs();
    const changesNothing = (text: string) => {
      const { verb, args } = parseCommand(text, verbs);
      return (verb as WorkerVerb).changesNothing?.(args) ?? false;
    };
    expect(changesNothing('config myapp beta get')).toBe(true);
    expect(changesNothing('config myapp beta set A=1')).toBe(false);
    expect(changesNothing('scale myapp beta 0')).toBe(true);
    expect(changesNothing('scale myapp beta 0 --yes')).toBe(false);
    expect(changesNothing('scale myapp beta 1')).toBe(false);
  });
});
