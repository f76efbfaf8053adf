/** `/k8s scale`, `restart` and `rollback` end to end, and the Rollback button of a failed deploy. */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  IMAGE,
  OPS,
  buttonValue,
  createForeignDeployment,
  deployment,
  h,
  myappPods,
  privateAnswer,
  threadText,
  useWriteVerbsHarness,
  workloadRequests,
} from './write-verbs-fixtures.js';

useWriteVerbsHarness('write-verbs-rollouts');
let since = 0;
beforeEach(() => {
  since = h.mark();
});

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
