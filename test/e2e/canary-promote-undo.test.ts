/** Abort after a full promote that did not finish: the canary goes and the stable Deployment goes back to what it ran before. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { canaryStore } from '../../src/canary/lifecycle.js';

const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  myapp:
    image: registry.example.com/team/myapp
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 2
    canary: { steps: [50], maxRestarts: 5, maxUnready: 10m, maxDuration: 2h }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;
const OPS = 'C0OPS';
const IMAGE = 'registry.example.com/team/myapp';

let h: Harness;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const image = (d: any) => d.spec.template.spec.containers[0].image as string;
const revision = (d: any) => d.metadata.annotations['deployment.kubernetes.io/revision'] as string;

/** Posts a command and waits for a call after it that matches. */
async function command(text: string, pred: (c: { method: string; args: any }) => boolean, ms = 15_000) {
  const from = h.mark();
  const res = await h.command(text, { channel: OPS, user: 'U0OPS' });
  const call = await h.slack.waitForCall((c) => c.seq > from && pred(c), ms);
  return { res, call };
}

beforeAll(async () => {
  h = await startHarness({ name: 'canary-promote-undo', config: CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);
afterAll(async () => {
  await h?.stop();
});

describe('abort after a failed promote --full', () => {
  it('rolls the stable Deployment back to its revision before the promote, says so, and a dry run shows it first', async () => {
    await command('deploy myapp beta 2.0.0 --canary', (c) => c.method === 'chat.update' && /Canary of \*myapp\*/.test(c.args.text));
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 2, 10_000, 'canary ready');
    const before = deployment('myapp');
    expect(revision(before)).toBe('1');

    // The stable's new pods cannot pull the image: the promote's rollout fails at its progress deadline.
    h.kube.setImageBehavior(`${IMAGE}:2.0.0`, { kind: 'imagePullFailure' });
    await command(
      'promote myapp beta --full',
      (c) => c.method === 'chat.postMessage' && /did not finish rolling/.test(c.args.text ?? ''),
      20_000,
    ).then(({ call }) => expect(call.args.text).toContain('rolls myapp back to revision 1 (what it ran before the promote)'));
    expect(image(deployment('myapp'))).toBe(`${IMAGE}:2.0.0`);
    expect((await canaryStore(h.chatops.services).get('beta', 'myapp'))?.promotedFrom).toBe(1);

    // A dry run of the abort: the stable's image back and the canary deleted; nothing written.
    const requests = h.kube.requests.length;
    const rv = deployment('myapp').metadata.resourceVersion;
    const dry = await h.command('abort myapp beta --dry-run', { channel: OPS, user: 'U0OPS' });
    const answer = await h.answer(dry.responseUrl, /Dry run/);
    const shown = JSON.stringify(answer.body.blocks);
    expect(shown).toContain('~ deployment myapp (namespace beta): changed');
    expect(shown).toContain(`- spec.template.spec.containers[myapp].image: ${IMAGE}:2.0.0`);
    expect(shown).toContain(`+ spec.template.spec.containers[myapp].image: ${IMAGE}:1.0.0`);
    expect(shown).toContain('- deployment myapp-canary (namespace beta): deleted');
    for (const w of h.kube.requests.slice(requests).filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews')))
      expect(w.query.dryRun, `${w.method} ${w.path}`).toBe('All');
    expect(deployment('myapp').metadata.resourceVersion).toBe(rv);

    const { call } = await command(
      'abort myapp beta',
      (c) => c.method === 'chat.postMessage' && /Canary of myapp in beta aborted/.test(c.args.text ?? ''),
    );
    expect(call.args.text).toContain(
      `myapp rolled back from revision 2 to revision 1 (${IMAGE}:1.0.0), what it ran before the promote (rolling out now)`,
    );
    expect(image(deployment('myapp'))).toBe(`${IMAGE}:1.0.0`);
    expect(deployment('myapp-canary')).toBeUndefined();
    // kubectl rollout undo: the old ReplicaSet becomes the newest revision, and its pods serve again.
    await h.kube.waitFor(
      () => {
        const d = deployment('myapp');
        return d.status?.updatedReplicas === 2 && d.status?.availableReplicas === 2 && d.status?.replicas === 2;
      },
      10_000,
      'the stable back on 1.0.0',
    );
    expect(revision(deployment('myapp'))).toBe('3');
    const pods = h.kube.list('v1', 'Pod', 'beta').filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual([`${IMAGE}:1.0.0`, `${IMAGE}:1.0.0`]);
    expect(await h.chatops.services.locks.holder('beta', 'myapp')).toBeUndefined();
  });

  it('removes the canary all the same when the revision to go back to is gone, and says how to roll back by hand', async () => {
    await command(
      'deploy myapp beta 3.0.0 --canary',
      (c) => c.method === 'chat.update' && /Canary of \*myapp\*.*3\.0\.0/.test(c.args.text),
    );
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 2, 10_000, 'canary ready');
    h.kube.setImageBehavior(`${IMAGE}:3.0.0`, { kind: 'imagePullFailure' });
    await command(
      'promote myapp beta --full',
      (c) => c.method === 'chat.postMessage' && /did not finish rolling/.test(c.args.text ?? ''),
      20_000,
    );
    // The revision kept before the promote no longer exists (history pruned, say).
    const store = canaryStore(h.chatops.services);
    await store.save({ ...(await store.get('beta', 'myapp'))!, promotedFrom: 99 });

    const { call } = await command(
      'abort myapp beta',
      (c) => c.method === 'chat.postMessage' && /Canary of myapp in beta aborted/.test(c.args.text ?? ''),
    );
    expect(call.args.text).toContain(':warning: myapp could NOT be rolled back to revision 99, what it ran before the promote');
    expect(call.args.text).toContain('`/k8s rollback myapp beta <revision>`');
    expect(deployment('myapp-canary')).toBeUndefined();
    expect(image(deployment('myapp'))).toBe(`${IMAGE}:3.0.0`);
    expect(await h.chatops.services.locks.holder('beta', 'myapp')).toBeUndefined();
  });
});
