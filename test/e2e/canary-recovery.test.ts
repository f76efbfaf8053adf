import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const IMAGE = 'registry.example.com/team/myapp';
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig).replace(
    '    environments: { prod: { replicas: 3 } }\n',
    '    environments: { prod: { replicas: 3 } }\n    canary: { steps: [25, 50], maxRestarts: 0, maxUnready: 1m, maxDuration: 2h }\n',
  );

const h = useHarness({ name: 'canary-recovery', config: CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const buttons = (blocks: any[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => b.elements.map((e: any) => [e.action_id, e.value] as const)),
  );

async function startCanary(version: string): Promise<{ ts: string; blocks: any[] }> {
  const from = h.slack.calls.at(-1)?.seq ?? 0;
  const res = await h.command(`deploy myapp beta ${version} --canary`, { channel: OPS, user: 'U0OPS' });
  expect(res.json.text).toContain('Queued');
  const live = await h.slack.waitForCall(
    (c) => c.seq > from && c.method === 'chat.update' && /Canary of \*myapp\* in \*beta\*/.test(c.args.text ?? ''),
    10_000,
  );
  return { ts: live.args.ts as string, blocks: live.args.blocks as any[] };
}

const abortedAutomatically = (ts: string, why: RegExp) =>
  h.slack.waitForCall(
    (c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts && /aborted automatically/.test(c.args.text) && why.test(c.args.text),
    10_000,
  );

beforeAll(async () => {
  await h.command('deploy myapp beta 1.0.0', { channel: OPS, user: 'U0OPS' });
  await h.slack.waitForCall(
    (c) => c.method === 'chat.update' && /:white_check_mark: deploy myapp 1\.0\.0 → beta/.test(c.args.text),
    10_000,
  );
}, 20_000);

describe('canary auto-abort and restarts', () => {
  it('aborts a crash-looping canary by itself and says why in the thread', async () => {
    h.kube.setImageBehavior(`${IMAGE}:2.0.0-crash`, { kind: 'crashLoop', exitCode: 1 });
    const generation = deployment('myapp').metadata.generation;
    const live = await startCanary('2.0.0-crash');
    const said = await abortedAutomatically(live.ts, /restarted \d+ times?, more than `canary.maxRestarts` \(0\)/);
    expect(said.args.text).toContain('myapp-canary removed');
    await h.kube.waitFor(() => !deployment('myapp-canary'), 5_000, 'the canary is removed');
    expect(deployment('myapp').metadata.generation).toBe(generation);
    await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === live.ts && /aborted: .*maxRestarts/.test(c.args.text),
      5_000,
    );
  });

  it('survives a restart of the bot: buttons still work and the new process keeps watching', async () => {
    const live = await startCanary('3.0.0');
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 1, 5_000, 'the canary is ready');
    await h.restart();

    // A button posted by the old process works in the new one.
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: live.ts,
      thread_ts: live.ts,
      action_id: 'chatops_run:canary-promote',
      value: buttons(live.blocks)['chatops_run:canary-promote']!,
      response_url: h.slack.newResponseUrl(),
    });
    await h.kube.waitFor(() => deployment('myapp-canary')?.spec.replicas === 2, 5_000, 'the canary at 50 %');
    // Still held: a plain deploy is refused.
    const plain = await h.command('deploy myapp beta 3.0.0', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForResponse((r) => r.id === plain.responseUrl.split('/').pop() && /a canary of myapp/.test(r.body.text ?? ''), 5_000);

    // The new process watches too: an OOM kill of a canary pod aborts it.
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 2, 5_000, 'both canary pods ready');
    const pod = h.kube.list('v1', 'Pod', 'beta').find((p) => p.metadata.labels.track === 'canary' && !p.metadata.deletionTimestamp);
    h.kube.oomKill('beta', pod.metadata.name);
    await abortedAutomatically(live.ts, /OOMKilled/);
    await h.kube.waitFor(() => !deployment('myapp-canary'), 5_000, 'the canary is removed');
    expect(deployment('myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
  });

  it('aborts (and frees the app) when the canary Deployment is deleted outside the bot', async () => {
    const live = await startCanary('4.0.0');
    h.kube.remove('apps/v1', 'Deployment', 'beta', 'myapp-canary');
    await abortedAutomatically(live.ts, /deployment myapp-canary was deleted outside the bot/);
    const scale = await h.command('scale myapp beta 2', { channel: OPS, user: 'U0OPS' });
    expect(scale.json.text).toContain('Queued');
    await h.slack.waitForCall((c) => c.method === 'chat.update' && /:white_check_mark: scale myapp/.test(c.args.text ?? ''), 10_000);
  });
});
