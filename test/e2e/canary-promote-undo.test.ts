/** Abort after a full promote that did not finish: the canary goes and the stable Deployment goes back to what it ran before. */
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import { CANARY_CONFIG, CANARY_IMAGE as IMAGE } from './canary-fixtures.js';
import { canaryStore } from '../../src/canary/lifecycle.js';

const OPS = 'C0OPS';

const h = useHarness({ name: 'canary-promote-undo', config: CANARY_CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const image = (d: any) => d.spec.template.spec.containers[0].image as string;
const revision = (d: any) => d.metadata.annotations['deployment.kubernetes.io/revision'] as string;

/** The newest abort's audit entry, once written (it follows the job's last message). */
async function abortAudited(since: number) {
  const [entry] = (await h.chatops.services.audit.recent({ verb: 'abort', app: 'myapp', env: 'beta', limit: 5 })).filter(
    (e) => e.outcome !== 'accepted' && e.at >= since,
  );
  return entry && { outcome: entry.outcome, detail: entry.detail };
}

/** Posts a command and waits for a call after it that matches. */
async function command(text: string, pred: (c: { method: string; args: any }) => boolean, ms = 15_000) {
  const from = h.mark();
  const res = await h.command(text, { channel: OPS, user: 'U0OPS' });
  const call = await h.slack.waitForCall((c) => c.seq > from && pred(c), ms);
  return { res, call };
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);

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

    // The abort follows the stable's rollout back like a deploy's: its ✅ only once every pod of the old revision is ready.
    const since = h.mark();
    const at = Date.now();
    await h.command('abort myapp beta', { channel: OPS, user: 'U0OPS' });
    const final = await h.waitForFinal(/abort canary myapp 2\.0\.0 in beta: myapp back to revision 1 — /, { since });
    expect(final.args.text).toMatch(/^:white_check_mark: abort canary myapp 2\.0\.0 in beta: myapp back to revision 1 — done in/);
    // kubectl rollout undo: the old ReplicaSet becomes the newest revision, and its pods serve again — already at the ✅.
    const d = deployment('myapp');
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(revision(d)).toBe('3');
    expect(image(d)).toBe(`${IMAGE}:1.0.0`);
    const pods = h.kube.list('v1', 'Pod', 'beta').filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual([`${IMAGE}:1.0.0`, `${IMAGE}:1.0.0`]);
    const thread = h.threadText(OPS, final.args.ts);
    expect(thread).toContain(
      `myapp rolled back from revision 2 to revision 1 (${IMAGE}:1.0.0), what it ran before the promote (no approval asked: abort only restores what ran before); following its rollout`,
    );
    expect(thread).toContain('2 of 2 replicas updated and available');
    // The canary's thread hears how the stable came back, before the ✅ (the canary is gone by then).
    const said = h.slack.calls.find(
      (c) => c.seq > since && c.method === 'chat.postMessage' && /Canary of myapp in beta aborted/.test(c.args.text ?? ''),
    );
    expect(said?.seq).toBeLessThan(final.seq);
    expect(said?.args.text).toContain(
      `Deployment myapp-canary removed; myapp is back on revision 1 (${IMAGE}:1.0.0), what it ran before the promote: 2 of 2 replicas updated and available.`,
    );
    expect(deployment('myapp-canary')).toBeUndefined();
    expect(await h.chatops.services.locks.holder('beta', 'myapp')).toBeUndefined();
    // The audit entry is written right after the thread's last word.
    await expect
      .poll(() => abortAudited(at), { timeout: 5_000 })
      .toEqual({
        outcome: 'succeeded',
        detail: `myapp back on revision 1 (${IMAGE}:1.0.0): 2 of 2 replicas updated and available`,
      });
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
  it('ends the abort with ❌ and the diagnosis when the restored revision no longer comes up', async () => {
    // The app settles on 1.1.0 (the last test left the stable stuck on 3.0.0), then a canary whose promote fails.
    await h.deployAndWait('myapp', 'beta', '1.1.0', { channel: OPS, user: 'U0OPS' });
    await command(
      'deploy myapp beta 5.0.0 --canary',
      (c) => c.method === 'chat.update' && /Canary of \*myapp\*.*5\.0\.0/.test(c.args.text),
    );
    await h.kube.waitFor(() => deployment('myapp-canary')?.status?.readyReplicas === 2, 10_000, 'canary ready');
    h.kube.setImageBehavior(`${IMAGE}:5.0.0`, { kind: 'imagePullFailure' });
    await command(
      'promote myapp beta --full',
      (c) => c.method === 'chat.postMessage' && /did not finish rolling/.test(c.args.text ?? ''),
      20_000,
    );
    const from = (await canaryStore(h.chatops.services).get('beta', 'myapp'))?.promotedFrom;
    expect(from).toBeGreaterThan(3);
    // Meanwhile 1.1.0 broke (a config it reads is gone, say): its pods, evicted, come back crash-looping.
    h.kube.setImageBehavior(`${IMAGE}:1.1.0`, { kind: 'crashLoop', exitCode: 3, logLines: ['panic: <!channel> config key missing'] });
    const old = h.kube
      .list('v1', 'Pod', 'beta')
      .filter((p) => p.spec.containers[0].image === `${IMAGE}:1.1.0` && !p.metadata.deletionTimestamp);
    expect(old).toHaveLength(2);
    for (const p of old) h.kube.evictPod('beta', p.metadata.name);

    const since = h.mark();
    const at = Date.now();
    await h.command('abort myapp beta', { channel: OPS, user: 'U0OPS' });
    const final = await h.waitForFinal(new RegExp(`abort canary myapp 5\\.0\\.0 in beta: myapp back to revision ${from} — `), {
      since,
      timeoutMs: 20_000,
    });
    expect(final.args.text).toMatch(
      /^:x: abort canary myapp 5\.0\.0 in beta: myapp back to revision \d+ — failed after .*: .*CrashLoopBackOff/,
    );
    expect(image(deployment('myapp'))).toBe(`${IMAGE}:1.1.0`);
    const thread = h.threadText(OPS, final.args.ts);
    expect(thread).toContain(
      `what it ran before the promote (no approval asked: abort only restores what ran before); following its rollout`,
    );
    // The diagnosis, as for a deploy: the pod, its state, its last log lines (escaped), what to do.
    expect(thread).toMatch(/\*Why:\* pod `myapp-[a-z0-9-]+` — .*CrashLoopBackOff/);
    expect(thread).toContain('panic: &lt;!channel&gt; config key missing');
    expect(thread).not.toContain('<!channel>');
    expect(thread).not.toContain('Rollback');
    const said = h.slack.calls.find(
      (c) => c.seq > since && c.method === 'chat.postMessage' && /Canary of myapp in beta aborted/.test(c.args.text ?? ''),
    );
    expect(said?.args.text).toMatch(
      new RegExp(
        `myapp was rolled back to revision ${from} \\(${IMAGE}:1\\.1\\.0\\), what it ran before the promote, but that rollout failed: `,
      ),
    );
    expect(said?.args.text).toContain("The abort's report has the diagnosis; `/k8s status myapp beta` shows its pods");
    // The canary is gone and the app free all the same; the audit says the abort failed, and why.
    expect(deployment('myapp-canary')).toBeUndefined();
    expect(await canaryStore(h.chatops.services).get('beta', 'myapp')).toBeUndefined();
    expect(await h.chatops.services.locks.holder('beta', 'myapp')).toBeUndefined();
    await expect.poll(() => abortAudited(at), { timeout: 5_000 }).toMatchObject({ outcome: 'failed' });
    expect((await abortAudited(at))?.detail).toMatch(new RegExp(`^myapp rolled back to revision ${from} .*, but its rollout failed: `));
  });
});
