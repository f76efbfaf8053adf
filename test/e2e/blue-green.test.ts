import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG, startHarness, type Harness } from '../support/harness.js';
import { blueGreenStore } from '../../src/canary/blue-green.js';

const OPS = 'C0OPS';
const IMAGE = 'registry.example.com/team/myapp';

let h: Harness;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const selector = () => h.kube.get('v1', 'Service', 'beta', 'myapp').spec.selector as Record<string, string>;
/** The images of the running pods the Service's selector picks (what gets traffic). */
const served = () =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => !p.metadata.deletionTimestamp && Object.entries(selector()).every(([k, v]) => p.metadata.labels?.[k] === v))
    .map((p) => p.spec.containers[0].image as string)
    .sort();

async function done(pattern: RegExp, from: number) {
  return h.slack.waitForCall((c) => c.seq > from && c.method === 'chat.update' && pattern.test(c.args.text ?? ''), 10_000);
}

beforeAll(async () => {
  h = await startHarness({ name: 'blue-green', config: E2E_CONFIG });
  await h.command('deploy myapp beta 1.0.0', { channel: OPS, user: 'U0OPS' });
  await done(/:white_check_mark: deploy myapp 1\.0\.0 → beta/, 0);
}, 20_000);
afterAll(async () => {
  await h?.stop();
});

describe('deploy --blue-green', () => {
  it('switches the Service to the new colour once it is ready, switches back in one patch, scales the old one to 0 after keepOld; a plain deploy then rolls the live colour', async () => {
    let from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 2.0.0 --blue-green', { channel: OPS, user: 'U0OPS' });
    const ok = await done(/:white_check_mark: deploy myapp 2\.0\.0 → beta \(blue\/green\)/, from);
    const green = deployment('myapp-green');
    expect(green.spec.template.spec.containers[0].image).toBe(`${IMAGE}:2.0.0`);
    expect(green.spec.template.metadata.labels.color).toBe('green');
    expect(selector()).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(served()).toEqual([`${IMAGE}:2.0.0`, `${IMAGE}:2.0.0`]);
    // The old one still runs, untouched, for switching back.
    expect(deployment('myapp').spec.replicas).toBe(2);
    expect(deployment('myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
    const switchPatches = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/services/myapp'));
    expect(switchPatches.at(-1)?.contentType).toContain('application/json-patch+json');

    const offer = h.slack.thread(OPS, ok.args.ts as string).find((m) => /switched to myapp-green/.test(m.text));
    const button = (offer?.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === 'chatops_run:bluegreen-back');
    expect(button).toBeDefined();

    // Held: a plain deploy is refused meanwhile.
    const plain = await h.command('deploy myapp beta 3.0.0', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForResponse(
      (r) => r.id === plain.responseUrl.split('/').pop() && /switched blue\/green/.test(r.body.text ?? ''),
      5_000,
    );

    // A dry run of finishing the switch shows the old one scaled to 0 and writes nothing (test/e2e/dry-run-progressive.test.ts).
    const requests = h.kube.requests.length;
    const dry = await h.command('promote myapp beta --full --dry-run', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForResponse(
      (r) =>
        r.id === dry.responseUrl.split('/').pop() &&
        /Dry run of promote canary or blue\/green release of myapp in beta fully/.test(r.body.text ?? ''),
      5_000,
    );
    expect(h.kube.requests.slice(requests).filter((r) => r.method !== 'GET' && r.query.dryRun !== 'All')).toEqual([]);
    expect(deployment('myapp').spec.replicas).toBe(2);

    const patches = switchPatches.length;
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: offer!.ts,
      thread_ts: ok.args.ts,
      action_id: button.action_id,
      value: button.value,
      response_url: h.slack.newResponseUrl(),
    });
    await h.kube.waitFor(
      () => served().every((i) => i === `${IMAGE}:1.0.0`) && served().length === 2,
      5_000,
      'the old version serves again',
    );
    expect(h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/services/myapp'))).toHaveLength(patches + 1);
    expect(selector()['pod-template-hash']).toBeDefined();
    await h.kube.waitFor(() => deployment('myapp-green')?.spec.replicas === 0, 5_000, 'green scaled to 0');

    // Again, then the keep period ends (the delayed job is promoted: the clock reaching keepOld).
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 3.0.0 --blue-green', { channel: OPS, user: 'U0OPS' });
    await done(/:white_check_mark: deploy myapp 3\.0\.0 → beta \(blue\/green\)/, from);
    expect(selector()).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(served()).toEqual([`${IMAGE}:3.0.0`, `${IMAGE}:3.0.0`]);
    const finish = (await h.chatops.queue.getJobs(['delayed'])).filter((j) => j.data.verb === 'abort' && (j.data.args as any).finish);
    expect(finish).toHaveLength(1);
    expect(finish[0]!.opts.delay).toBe(30 * 60_000);
    await finish[0]!.promote();
    await h.kube.waitFor(() => deployment('myapp')?.spec.replicas === 0, 5_000, 'the old one scaled to 0');
    expect(served()).toEqual([`${IMAGE}:3.0.0`, `${IMAGE}:3.0.0`]);

    // Free again. A canary would run beside the app's own Deployment, which no longer serves: refused with the command to use.
    const canary = await h.command('deploy myapp beta 4.0.0 --canary', { channel: OPS, user: 'U0OPS' });
    await h.answer(canary.responseUrl, /Deploy with `\/k8s deploy myapp beta 4\.0\.0 --blue-green`/, 5_000);
    expect(deployment('myapp-canary')).toBeUndefined();

    // A plain deploy (out of habit) rolls the colour that serves, in place: no second colour, the old one left at 0.
    const dryPlain = await h.command('deploy myapp beta 4.0.0 --dry-run', { channel: OPS, user: 'U0OPS' });
    const dryAnswer = JSON.stringify((await h.answer(dryPlain.responseUrl, /Dry run of deploy myapp 4\.0\.0/, 10_000)).body);
    expect(dryAnswer).toContain('1 object (1 changed)');
    expect(dryAnswer).toContain('~ deployment myapp-green (namespace beta): changed');
    expect(dryAnswer).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:4.0.0`);
    expect(deployment('myapp-green').spec.template.spec.containers[0].image).toBe(`${IMAGE}:3.0.0`);
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 4.0.0', { channel: OPS, user: 'U0OPS' });
    const rolled = await done(/:white_check_mark: deploy myapp 4\.0\.0 → beta/, from);
    expect(h.threadText(OPS, rolled.args.ts as string)).toMatch(
      /deployment myapp-green, the green colour the Service selects, rolled in place: image registry\.example\.com\/team\/myapp:3\.0\.0 → registry\.example\.com\/team\/myapp:4\.0\.0/,
    );
    expect(selector()).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'green' });
    expect(served()).toEqual([`${IMAGE}:4.0.0`, `${IMAGE}:4.0.0`]);
    expect(deployment('myapp').spec.replicas).toBe(0);
    expect(deployment('myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
    expect(deployment('myapp-blue')).toBeUndefined();
    // The next blue/green release starts from what serves now.
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 5.0.0 --blue-green', { channel: OPS, user: 'U0OPS' });
    const next = await done(/:white_check_mark: deploy myapp 5\.0\.0 → beta \(blue\/green\)/, from);
    expect(selector()).toEqual({ 'app.kubernetes.io/name': 'myapp', color: 'blue' });
    expect(served()).toEqual([`${IMAGE}:5.0.0`, `${IMAGE}:5.0.0`]);
    expect(h.threadText(OPS, next.args.ts as string)).toContain(`myapp-green (\`${IMAGE}:4.0.0\`) stays scaled`);

    // What serves is a colour now: scale and status act on it, not on the app's own Deployment left at 0.
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('promote myapp beta --full', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForCall((c) => c.seq > from && /myapp-green scaled to 0 by/.test(c.args.text ?? ''), 10_000);
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('scale myapp beta 3', { channel: OPS, user: 'U0OPS' });
    await done(/:white_check_mark: scale myapp/, from);
    expect(deployment('myapp-blue').spec.replicas).toBe(3);
    expect(deployment('myapp-green').spec.replicas).toBe(0);
    expect(deployment('myapp').spec.replicas).toBe(0);
    expect(served()).toEqual([`${IMAGE}:5.0.0`, `${IMAGE}:5.0.0`, `${IMAGE}:5.0.0`]);
    const status = await h.command('status myapp beta', { channel: OPS, user: 'U0OPS' });
    expect(JSON.stringify((await h.answer(status.responseUrl, undefined, 10_000)).body)).toContain('myapp-blue');

    // A failed roll of the colour offers Rollback, and it rolls that colour back.
    h.kube.setImageBehavior(`${IMAGE}:6.0.0-typo`, { kind: 'imagePullFailure' });
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 6.0.0-typo', { channel: OPS, user: 'U0OPS' });
    const failed = await h.slack.waitForCall(
      (c) => c.seq > from && c.method === 'chat.update' && /:x: deploy myapp 6\.0\.0-typo → beta — failed/.test(c.args.text ?? ''),
      20_000,
    );
    const rollbackOffer = h.slack
      .thread(OPS, failed.args.ts as string)
      .find((m) => (m.blocks as any[] | undefined)?.some((b) => b.type === 'actions'));
    const rollback = (rollbackOffer?.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === 'chatops_run');
    expect(rollback).toBeDefined();
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: rollbackOffer!.ts,
      thread_ts: failed.args.ts,
      action_id: rollback.action_id,
      value: rollback.value,
      response_url: h.slack.newResponseUrl(),
    });
    await h.kube.waitFor(
      () => deployment('myapp-blue')?.spec.template.spec.containers[0].image === `${IMAGE}:5.0.0`,
      10_000,
      'blue back on 5.0.0',
    );
    await h.kube.waitFor(() => served().length === 3 && served().every((i) => i === `${IMAGE}:5.0.0`), 10_000, '5.0.0 serves again');
    expect(deployment('myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
  });
  it('status <env> shows the colour that serves, what is kept for switching back until when, and marks resources set from chat', async () => {
    // The app's own Deployment (0 replicas, 1.0.0) does not serve: the row is the colour's.
    const rowOf = (text: string) => text.split('\n').find((l) => l.startsWith('myapp'));
    const status = async () => {
      const res = await h.command('status beta', { channel: OPS, user: 'U0OPS' });
      const body = (await h.answer(res.responseUrl, undefined, 10_000)).body;
      return { body, text: (body.blocks as any[]).map((b) => b.text?.text ?? '').join('\n') };
    };
    let from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('deploy myapp beta 7.0.0 --blue-green', { channel: OPS, user: 'U0OPS' });
    await done(/:white_check_mark: deploy myapp 7\.0\.0 → beta \(blue\/green\)/, from);
    expect(selector()).toMatchObject({ color: 'green' });
    const rec = await blueGreenStore(h.chatops.services).get('beta', 'myapp');
    expect(rec?.old).toBe('myapp-blue');

    let shown = await status();
    expect(rowOf(shown.text)).toMatch(new RegExp(`^myapp · green +Deployment +3/3 +3 +3 +${IMAGE}:7\\.0\\.0 `));
    expect(shown.text).toContain(
      `:large_blue_circle: *myapp* · green serving, blue kept until <!date^${Math.floor(rec!.keepUntil / 1000)}^{date_short_pretty} {time_secs}|`,
    );
    expect(shown.text).toContain('(`/k8s abort myapp beta` switches back)');
    expect(shown.text).not.toContain('resources set from chat');

    // The switch-back period ends; resources set from chat on the colour that serves are marked.
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('promote myapp beta --full', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForCall((c) => c.seq > from && /myapp-blue scaled to 0 by/.test(c.args.text ?? ''), 10_000);
    from = h.slack.calls.at(-1)?.seq ?? 0;
    await h.command('resources myapp beta --memory-limit 300Mi', { channel: OPS, user: 'U0OPS' });
    await done(/:white_check_mark: resources myapp in beta: memory limit → 300Mi/, from);
    expect(deployment('myapp-green').metadata.annotations['k8s-chatops.io/resources']).toBeDefined();

    shown = await status();
    expect(rowOf(shown.text)).toMatch(new RegExp(`^myapp · green \\* +Deployment +3/3 +3 +3 +${IMAGE}:7\\.0\\.0 `));
    expect(shown.text).toContain(':large_blue_circle: *myapp* · green serving\n');
    expect(shown.text).not.toContain('kept until');
    expect(shown.text).toContain(
      ":pencil2: `*` resources set from chat, kept by every deploy: `/k8s status &lt;app&gt; beta` shows them, `/k8s resources &lt;app&gt; beta --reset` goes back to the bot's config",
    );
  });
});
