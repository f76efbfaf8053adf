import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const IMAGE = 'registry.example.com/team/myapp';
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace(
      '    environments: { prod: { replicas: 3 } }\n',
      '    environments: { prod: { replicas: 3 } }\n    canary: { steps: [25, 50], maxRestarts: 0, maxUnready: 1m, maxDuration: 2h }\n',
    )
    .replace(
      '  hungry:\n',
      '  legacy:\n    image: registry.example.com/team/legacy\n    workload: { kind: Deployment, name: legacy-web, container: web }\n  hungry:\n',
    );

const h = useHarness({ name: 'canary', config: CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
const since = () => h.slack.calls.at(-1)?.seq ?? 0;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const buttons = (blocks: any[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements.map((e: any) => [e.action_id, e.value] as const)),
  );

/** Starts a canary from the ops channel; returns its live message (after the worker posted it). */
async function startCanary(version: string, extra = ''): Promise<{ ts: string; blocks: any[]; text: string }> {
  const from = since();
  const res = await h.command(`deploy myapp beta ${version} --canary${extra}`, { channel: OPS, user: 'U0OPS' });
  expect(res.json.text).toContain('Queued');
  const live = await h.slack.waitForCall(
    (c) => c.seq > from && c.method === 'chat.update' && /Canary of \*myapp\* in \*beta\*/.test(c.args.text ?? ''),
    10_000,
  );
  return { ts: live.args.ts as string, blocks: live.args.blocks as any[], text: live.args.text as string };
}

async function click(ts: string, actionId: string, value: string): Promise<void> {
  const res = await h.click({
    user_id: 'U0OPS',
    channel_id: OPS,
    message_ts: ts,
    thread_ts: ts,
    action_id: actionId,
    value,
    response_url: h.slack.newResponseUrl(),
  });
  expect(res.status).toBe(200);
}

const threadText = (ts: string) =>
  h.slack
    .thread(OPS, ts)
    .map((m) => m.text)
    .join('\n');

beforeAll(async () => {
  await h.command('deploy myapp beta 1.0.0', { channel: OPS, user: 'U0OPS' });
  await h.slack.waitForCall(
    (c) => c.method === 'chat.update' && /:white_check_mark: deploy myapp 1\.0\.0 → beta/.test(c.args.text),
    10_000,
  );
}, 20_000);

describe('deploy --canary', () => {
  it('runs the new version beside the untouched stable one, says the real share, and aborts back to exactly the stable', async () => {
    const stableBefore = deployment('myapp');
    const live = await startCanary('2.0.0');

    const canary = deployment('myapp-canary');
    expect(canary.spec.template.spec.containers[0].image).toBe(`${IMAGE}:2.0.0`);
    expect(canary.spec.replicas).toBe(1);
    expect(canary.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'myapp', track: 'canary' });
    expect(canary.spec.template.metadata.labels.track).toBe('canary');
    const stable = deployment('myapp');
    expect(stable.metadata.generation).toBe(stableBefore.metadata.generation);
    expect(stable.spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
    // One Service selects both tracks: its selector never names `track`.
    const selector = h.kube.get('v1', 'Service', 'beta', 'myapp').spec.selector;
    expect(selector).toEqual({ 'app.kubernetes.io/name': 'myapp' });
    await h.kube.waitFor(
      () =>
        h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels.track === 'canary' && p.status?.phase === 'Running').length === 1,
      5_000,
      'the canary pod runs',
    );

    expect(live.text).toContain('1 of 3 pods, 33 %');
    expect(live.text).toContain('step 1 of 2: 25 %');
    const ids = buttons(live.blocks);
    expect(Object.keys(ids).sort()).toEqual(['chatops_run:canary-abort', 'chatops_run:canary-full', 'chatops_run:canary-promote']);

    // The watcher keeps the message up to date: the canary pod becomes ready.
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === live.ts && /canary 1\/1 ready/.test(c.args.text ?? ''),
      5_000,
    );

    // The target is held: another write is refused with the reason.
    const scale = await h.command('scale myapp beta 4', { channel: OPS, user: 'U0OPS' });
    const refused = await h.slack.waitForResponse(
      (r) => r.id === scale.responseUrl.split('/').pop() && /canary of myapp/.test(r.body.text ?? ''),
      5_000,
    );
    expect(refused.body.text).toContain('abort myapp beta');
    expect(deployment('myapp').spec.replicas).toBe(2);

    await click(live.ts, 'chatops_run:canary-abort', ids['chatops_run:canary-abort']!);
    await h.kube.waitFor(() => !deployment('myapp-canary'), 5_000, 'the canary is removed');
    await h.slack.waitForCall((c) => c.method === 'chat.update' && c.args.ts === live.ts && /aborted/.test(c.args.text ?? ''), 5_000);
    await h.slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts === live.ts && /aborted by/.test(c.args.text),
      5_000,
    );
    expect(threadText(live.ts)).toMatch(/aborted by <@U0OPS>.*myapp untouched \(generation \d+/);
    const after = deployment('myapp');
    expect(after.metadata.generation).toBe(stableBefore.metadata.generation);
    expect(after.spec).toEqual(stableBefore.spec);
    // The message has no buttons any more, and the app is free for other changes.
    expect(buttons(h.slack.message(OPS, live.ts)?.blocks as any[])).toEqual({});
    const again = await h.command('abort myapp beta', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForResponse(
      (r) => r.id === again.responseUrl.split('/').pop() && /Nothing to abort: no canary/.test(r.body.text ?? ''),
      5_000,
    );
  });

  it('promotes a step with the button, then fully with the verb: the stable rolls to the new version and the canary goes', async () => {
    const live = await startCanary('3.0.0');
    await click(live.ts, 'chatops_run:canary-promote', buttons(live.blocks)['chatops_run:canary-promote']!);
    await h.kube.waitFor(() => deployment('myapp-canary')?.spec.replicas === 2, 5_000, 'the canary at 50 %');
    await h.slack.waitForCall((c) => c.method === 'chat.update' && c.args.ts === live.ts && /2 of 4 pods, 50 %/.test(c.args.text), 5_000);
    expect(deployment('myapp').spec.replicas).toBe(2);
    // At the last step, Promote is gone; Promote fully and Abort remain.
    expect(Object.keys(buttons(h.slack.message(OPS, live.ts)?.blocks as any[])).sort()).toEqual([
      'chatops_run:canary-abort',
      'chatops_run:canary-full',
    ]);

    // A dry run first: the stable image change and the canary's removal, nothing written, the canary still on.
    const stableBefore = deployment('myapp');
    const requestsBefore = h.kube.requests.length;
    const dry = await h.command('promote myapp beta --full --dry-run', { channel: OPS, user: 'U0OPS' });
    const answer = await h.slack.waitForResponse(
      (r) => r.id === dry.responseUrl.split('/').pop() && /Dry run/.test(String(r.body.text)),
      10_000,
    );
    const shown = JSON.stringify(answer.body.blocks);
    expect(shown).toContain('~ deployment myapp (namespace beta): changed');
    expect(shown).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    expect(shown).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:3.0.0`);
    expect(shown).toContain('- deployment myapp-canary (namespace beta): deleted');
    const writes = h.kube.requests
      .slice(requestsBefore)
      .filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && !r.path.includes('selfsubjectaccessreviews'));
    expect(writes.map((w) => `${w.method} ${w.path.split('/').pop()} ${w.query.dryRun}`)).toEqual([
      'PATCH myapp All',
      'DELETE myapp-canary All',
    ]);
    expect(deployment('myapp').metadata.generation).toBe(stableBefore.metadata.generation);
    expect(deployment('myapp-canary').spec.replicas).toBe(2);

    const from = since();
    await h.command('promote myapp beta --full', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForCall(
      (c) => c.seq > from && c.method === 'chat.update' && /:white_check_mark: promote canary myapp 3\.0\.0 → beta/.test(c.args.text),
      10_000,
    );
    await h.kube.waitFor(() => !deployment('myapp-canary'), 5_000, 'the canary is removed');
    expect(deployment('myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:3.0.0`);
    await h.slack.waitForCall((c) => c.method === 'chat.update' && c.args.ts === live.ts && /promoted/.test(c.args.text ?? ''), 5_000);
    // Free again: a plain write goes through.
    const scale = await h.command('scale myapp beta 2', { channel: OPS, user: 'U0OPS' });
    expect(scale.json.text).toContain('Queued');
  });

  it('refuses a canary in a channel that may not promote or abort it (the bot aborts as the starter, there)', async () => {
    const res = await h.command('deploy myapp beta 5.0.0 --canary', { channel: 'C0DEVTEAM', user: 'U0DEV' });
    expect(res.json.text).toContain('Queued');
    // Privately, or in its thread when it first waited for the app (the scale above may still hold it).
    const pattern = /needs `promote` and `abort` in this channel/;
    const refused = await Promise.any([
      h.slack
        .waitForResponse((r) => r.id === res.responseUrl.split('/').pop() && pattern.test(r.body.text ?? ''), 10_000)
        .then((r) => r.body.text as string),
      h.slack
        .waitForCall((c) => c.args.channel === 'C0DEVTEAM' && pattern.test(c.args.text ?? ''), 10_000)
        .then((c) => c.args.text as string),
    ]);
    expect(refused).toContain('`promote` or `abort`');
    expect(deployment('myapp-canary')).toBeUndefined();
  });

  it('works for an adopted Deployment: the canary copies its pod template with the new image', async () => {
    h.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'legacy-web', namespace: 'beta', labels: { app: 'legacy-web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'legacy-web' } },
        template: {
          metadata: { labels: { app: 'legacy-web', tier: 'web' } },
          spec: {
            volumes: [{ name: 'cache', emptyDir: {} }],
            containers: [
              { name: 'web', image: 'registry.example.com/team/legacy:1.0.0', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] },
              { name: 'proxy', image: 'envoyproxy/envoy:v1.30.0' },
            ],
          },
        },
      },
    });
    await h.kube.waitFor(() => deployment('legacy-web')?.status?.readyReplicas === 3, 5_000, 'the adopted Deployment is ready');
    const before = deployment('legacy-web');
    const from = since();
    await h.command('deploy legacy beta 2.0.0 --canary', { channel: OPS, user: 'U0OPS' });
    const live = await h.slack.waitForCall(
      (c) => c.seq > from && c.method === 'chat.update' && /Canary of \*legacy\* in \*beta\*/.test(c.args.text ?? ''),
      10_000,
    );
    expect(live.args.text).toContain('1 of 4 pods, 25 %');
    const canary = deployment('legacy-web-canary');
    expect(canary.spec.selector.matchLabels).toEqual({ app: 'legacy-web', track: 'canary' });
    expect(canary.spec.template.metadata.labels).toEqual({ app: 'legacy-web', tier: 'web', track: 'canary' });
    expect(canary.spec.template.spec.containers.map((c: any) => c.image)).toEqual([
      'registry.example.com/team/legacy:2.0.0',
      'envoyproxy/envoy:v1.30.0',
    ]);
    expect(canary.spec.template.spec.volumes).toEqual(before.spec.template.spec.volumes);
    expect(deployment('legacy-web').metadata.generation).toBe(before.metadata.generation);

    await h.command('abort legacy beta', { channel: OPS, user: 'U0OPS' });
    await h.kube.waitFor(() => !deployment('legacy-web-canary'), 5_000, 'the canary is removed');
    expect(deployment('legacy-web').spec).toEqual(before.spec);
  });
});
