/** `--dry-run` of the progressive steps: blue/green deploy and its end, a canary step, abort — and their approval diffs. */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { useHarness } from '../support/use-harness.js';
import type { SlackCall } from '../support/slack/index.js';
import type { ApprovalRequest } from '../support/flows.js';
import { canaryStore } from '../../src/canary/lifecycle.js';
import { blueGreenStore } from '../../src/canary/blue-green.js';

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
    port: 8080
    replicas: 3
    progressDeadlineSeconds: 5
    canary: { steps: [25, 50], maxRestarts: 0, maxUnready: 1m, maxDuration: 2h }
  web:
    image: registry.example.com/team/web
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 5
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;
const OPS = 'C0OPS';
const MYAPP = 'registry.example.com/team/myapp';
const WEB = 'registry.example.com/team/web';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const h = useHarness({ name: 'dry-run-progressive', config: CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
let since = 0;
let requestsSince = 0;
const after = (pred: (c: SlackCall) => boolean, ms = 15_000) => h.slack.waitForCall((c) => c.seq > since && pred(c), ms);
const deployment = (ns: string, name: string) => h.kube.get('apps/v1', 'Deployment', ns, name);
const selector = (ns: string) => h.kube.get('v1', 'Service', ns, 'web').spec.selector as Record<string, string>;
const writesSince = () =>
  h.kube.requests.slice(requestsSince).filter((r) => WRITES.has(r.method) && !r.path.includes('selfsubjectaccessreviews'));

/** Every Deployment and Service of a namespace as resourceVersion/generation: a dry run leaves them all as they were. */
const snapshot = (ns: string) =>
  [...h.kube.list('apps/v1', 'Deployment', ns), ...h.kube.list('v1', 'Service', ns)]
    .map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}/${o.metadata.generation ?? '-'}`)
    .sort();

/** `promote web beta --full` after a switch: the old colour (`old`) scaled to 0 and the app freed. */
async function finishSwitch(old: string): Promise<void> {
  const from = h.slack.calls.at(-1)?.seq ?? 0;
  await h.command('promote web beta --full', { channel: OPS, user: 'U0OPS' });
  await h.slack.waitForCall(
    (c) => c.seq > from && c.method === 'chat.postMessage' && (c.args.text ?? '').startsWith(`:white_check_mark: ${old} scaled to 0 by`),
    10_000,
  );
}

/** Runs a command and waits for its job's final message (or the canary's live message). */
async function run(text: string, done: RegExp): Promise<SlackCall> {
  const from = h.mark();
  expect((await h.command(text, { channel: OPS, user: 'U0OPS' })).json.text).toContain('Queued');
  return h.waitForFinal(done, { since: from });
}

/** The dry run's private answer, after checking that nothing was written, posted or changed in `ns`. */
async function dryRun(text: string, ns = 'beta'): Promise<{ text: string; shown: string }> {
  const before = snapshot(ns);
  const res = await h.command(text, { channel: OPS, user: 'U0OPS' });
  expect(res.json.text).toMatch(/^:mag: Dry run of `.*`: the diff follows here; nothing is written\./);
  const answer = await h.answer(res.responseUrl, /Dry run/);
  expect(snapshot(ns)).toEqual(before);
  const writes = writesSince();
  expect(writes.length).toBeGreaterThan(0);
  for (const w of writes) expect(w.query.dryRun, `${w.method} ${w.path}`).toBe('All');
  expect(h.slack.calls.filter((c) => c.seq > since && c.method === 'chat.postMessage')).toEqual([]);
  return { text: String(answer.body.text), shown: JSON.stringify(answer.body.blocks ?? []) };
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
  await h.deployAndWait('web', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);
beforeEach(() => {
  since = h.slack.calls.at(-1)?.seq ?? 0;
  requestsSince = h.kube.requests.length;
});

describe('--dry-run of a canary step and abort', () => {
  it('promote: the canary scale for the next step; abort: the canary deleted, as dry runs the watch never sees', async () => {
    await run('deploy myapp beta 2.0.0 --canary', /Canary of \*myapp\* in \*beta\*/);
    await h.kube.waitFor(() => deployment('beta', 'myapp-canary')?.status?.readyReplicas === 1, 10_000, 'canary ready');
    const record = await canaryStore(h.chatops.services).get('beta', 'myapp');
    since = h.slack.calls.at(-1)?.seq ?? 0;
    requestsSince = h.kube.requests.length;

    const step = await dryRun('promote myapp beta --dry-run');
    expect(step.shown).toContain('~ deployment myapp-canary (namespace beta): changed');
    expect(step.shown).toContain('- spec.replicas: 1');
    expect(step.shown).toContain('+ spec.replicas: 3');
    expect(step.shown).not.toContain('deployment myapp (namespace beta)');
    expect(step.shown).toContain('myapp stays at 3 replicas');
    expect(writesSince().map((w) => `${w.method} ${w.path}`)).toEqual([
      'PATCH /apis/apps/v1/namespaces/beta/deployments/myapp-canary/scale',
    ]);
    expect(await canaryStore(h.chatops.services).get('beta', 'myapp')).toEqual(record);

    // A watch on the canary from now: the dry-run delete sends it nothing, the real one a DELETED.
    const kc = new KubeConfig();
    kc.loadFromFile(h.kubeconfig);
    const events: string[] = [];
    const watch = await new Watch(kc).watch(
      '/apis/apps/v1/namespaces/beta/deployments',
      { resourceVersion: h.kube.resourceVersion(), fieldSelector: 'metadata.name=myapp-canary' },
      (type) => events.push(type),
      () => undefined,
    );
    try {
      since = h.slack.calls.at(-1)?.seq ?? 0;
      requestsSince = h.kube.requests.length;
      const abort = await dryRun('abort myapp beta --dry-run');
      expect(abort.shown).toContain('- deployment myapp-canary (namespace beta): deleted');
      expect(abort.shown).toContain('deployment myapp is not changed');
      const deletes = writesSince().filter((w) => w.method === 'DELETE');
      expect(deletes.map((w) => w.path)).toEqual(['/apis/apps/v1/namespaces/beta/deployments/myapp-canary']);
      expect(deployment('beta', 'myapp-canary')).toBeDefined();
      expect(await canaryStore(h.chatops.services).get('beta', 'myapp')).toEqual(record);
      expect((await h.chatops.services.locks.holder('beta', 'myapp'))?.hold).toBeDefined();

      await h.command('abort myapp beta', { channel: OPS, user: 'U0OPS' });
      await after((c) => c.method === 'chat.postMessage' && /Canary of myapp in beta aborted by/.test(c.args.text ?? ''));
      await h.kube.waitFor(() => events.includes('DELETED'), 10_000, 'the real delete watched');
      expect(events.slice(0, events.indexOf('DELETED')).filter((e) => e === 'DELETED')).toEqual([]);
    } finally {
      watch.abort();
    }
  });
});

describe('--dry-run of blue/green', () => {
  it('deploy: the new colour created and the Service switch, with when each happens; then switch back and finish', async () => {
    const first = await dryRun('deploy web beta 2.0.0 --blue-green --dry-run');
    expect(first.text).toContain('Dry run of deploy web 2.0.0 → beta (blue/green)');
    expect(first.shown).toContain('+ deployment web-green (namespace beta): created');
    expect(first.shown).toContain(`+ spec.template.spec.containers[web].image: ${WEB}:2.0.0`);
    expect(first.shown).toContain('+ spec.replicas: 2');
    expect(first.shown).toContain('~ service web (namespace beta): changed');
    expect(first.shown).toContain('+ spec.selector.color: green');
    expect(first.shown).toContain('Service web switches to it (one selector patch) only when every new pod is ready');
    expect(writesSince().map((w) => `${w.method} ${w.path} ${w.contentType ?? ''}`)).toEqual([
      'PATCH /apis/apps/v1/namespaces/beta/deployments/web-green application/apply-patch+yaml',
      'PATCH /api/v1/namespaces/beta/services/web application/json-patch+json',
    ]);
    expect(deployment('beta', 'web-green')).toBeUndefined();
    expect(await blueGreenStore(h.chatops.services).get('beta', 'web')).toBeUndefined();
    expect(await h.chatops.services.queue.getDelayedCount()).toBe(0);

    await run('deploy web beta 2.0.0 --blue-green', /:white_check_mark: deploy web 2\.0\.0 → beta \(blue\/green\)/);
    expect(selector('beta').color).toBe('green');
    requestsSince = h.kube.requests.length;
    // While the switch is kept, the real deploy would be refused by the hold: so is its dry run, with the reason.
    const held = await h.command('deploy web beta 9.0.0 --blue-green --dry-run', { channel: OPS, user: 'U0OPS' });
    expect((await h.answer(held.responseUrl, /^(?!:mag:)/)).body.text).toMatch(/Dry run: .*was just switched blue\/green/);
    expect(writesSince()).toEqual([]);

    since = h.slack.calls.at(-1)?.seq ?? 0;
    requestsSince = h.kube.requests.length;
    const back = await dryRun('abort web beta --dry-run');
    expect(back.shown).toContain('~ service web (namespace beta): changed');
    expect(back.shown).toContain('- spec.selector.color: green');
    expect(back.shown).toMatch(/\+ spec\.selector\.pod-template-hash: [a-z0-9]+/);
    expect(back.shown).toContain('~ deployment web-green (namespace beta): changed');
    expect(back.shown).toContain('+ spec.replicas: 0');
    expect(selector('beta').color).toBe('green');

    since = h.slack.calls.at(-1)?.seq ?? 0;
    requestsSince = h.kube.requests.length;
    const finish = await dryRun('promote web beta --full --dry-run');
    expect(finish.shown).toContain('~ deployment web (namespace beta): changed');
    expect(finish.shown).toContain('- spec.replicas: 2');
    expect(finish.shown).toContain('+ spec.replicas: 0');
    expect(finish.shown).not.toContain('service web');
    expect(await blueGreenStore(h.chatops.services).get('beta', 'web')).toBeDefined();
    expect(deployment('beta', 'web').spec.replicas).toBe(2);
  });

  it('deploy again: the selector moves from one colour to the other, and an earlier colour shows only its changed fields', async () => {
    await finishSwitch('web');
    await run('deploy web beta 3.0.0 --blue-green', /:white_check_mark: deploy web 3\.0\.0 → beta \(blue\/green\)/);
    expect(selector('beta').color).toBe('blue');
    await finishSwitch('web-green');
    since = h.slack.calls.at(-1)?.seq ?? 0;
    requestsSince = h.kube.requests.length;

    const { shown } = await dryRun('deploy web beta 4.0.0 --blue-green --dry-run');
    expect(shown).toContain('- spec.selector.color: blue');
    expect(shown).toContain('+ spec.selector.color: green');
    // web-green is left from 2.0.0, scaled to 0: changed, not created.
    expect(shown).toContain('~ deployment web-green (namespace beta): changed');
    expect(shown).toContain(`- spec.template.spec.containers[web].image: ${WEB}:2.0.0`);
    expect(shown).toContain(`+ spec.template.spec.containers[web].image: ${WEB}:4.0.0`);
    expect(shown).toContain('- spec.replicas: 0');
    expect(shown).toContain('+ spec.replicas: 2');
    expect(deployment('beta', 'web-green').spec.replicas).toBe(0);
  });
});

/** Asks as U0DEV; returns the approval request. */
async function requestChange(text: string): Promise<ApprovalRequest> {
  const from = h.mark();
  expect((await h.command(text, { channel: OPS, user: 'U0DEV' })).json.text).toContain('needs approval');
  return h.waitForApproval({ since: from, match: (c) => JSON.stringify(c.args.blocks).includes(`/k8s ${text}`) });
}
const approve = async (request: ApprovalRequest) => expect((await h.clickApproval(request, 'U0OPSLEAD')).status).toBe(200);

describe('approval requests of blue/green', () => {
  it('carry the diff; a serving Deployment scaled while the request waits means a new request with the new diff', async () => {
    await approve(await requestChange('deploy web prod 1.0.0'));
    await h.waitForFinal(/:white_check_mark: deploy web 1\.0\.0 → prod/, { since });

    const request = await requestChange('deploy web prod 2.0.0 --blue-green');
    const { message, ts } = request;
    const shown = JSON.stringify(message.args.blocks);
    expect(shown).toContain('deployment web-green with registry.example.com/team/web:2.0.0 beside web');
    expect(shown).toContain('+ deployment web-green (namespace prod): created');
    expect(shown).toContain('+ spec.replicas: 2');
    expect(shown).toContain('~ service web (namespace prod): changed');
    expect(shown).toContain('+ spec.selector.color: green');
    expect(deployment('prod', 'web-green')).toBeUndefined();

    // The serving Deployment is scaled meanwhile: the new colour would start with 3 replicas, not the 2 approved.
    const live = deployment('prod', 'web');
    live.spec.replicas = 3;
    h.kube.update(live);
    since = h.mark();
    await approve(request);
    const again = await h.waitForApproval({ since });
    expect(JSON.stringify(again.message.args.blocks)).toContain('+ spec.replicas: 3');
    expect(h.slack.thread(OPS, ts).some((m) => /live objects changed after this request was posted/.test(m.text))).toBe(true);
    expect(deployment('prod', 'web-green')).toBeUndefined();
    expect(selector('prod').color).toBeUndefined();

    since = h.mark();
    await approve(again);
    await h.waitForFinal(/:white_check_mark: deploy web 2\.0\.0 → prod \(blue\/green\)/, { since });
    expect(selector('prod').color).toBe('green');
    expect(deployment('prod', 'web-green').spec.replicas).toBe(3);
  });
});

describe('approval requests of a canary step', () => {
  it('carry the canary scale; abort needs no approval and removes the canary', async () => {
    for (const text of ['deploy myapp prod 1.0.0', 'deploy myapp prod 2.0.0 --canary']) {
      await approve(await requestChange(text));
      await h.kube.waitFor(
        () =>
          deployment('prod', text.includes('canary') ? 'myapp-canary' : 'myapp')?.status?.readyReplicas ===
          (text.includes('canary') ? 1 : 3),
        15_000,
        `${text} ran`,
      );
    }
    expect(deployment('prod', 'myapp-canary').spec.template.spec.containers[0].image).toBe(`${MYAPP}:2.0.0`);
    const request = await requestChange('promote myapp prod');
    const shown = JSON.stringify(request.message.args.blocks);
    expect(shown).toContain('~ deployment myapp-canary (namespace prod): changed');
    expect(shown).toContain('- spec.replicas: 1');
    expect(shown).toContain('+ spec.replicas: 3');
    expect(deployment('prod', 'myapp-canary').spec.replicas).toBe(1);

    // The stable is scaled to 5 while the request waits: 50 % is now 5 canary pods, not the 3 approved.
    const stable = deployment('prod', 'myapp');
    stable.spec.replicas = 5;
    h.kube.update(stable);
    since = h.mark();
    await approve(request);
    const again = await h.waitForApproval({ since });
    expect(JSON.stringify(again.message.args.blocks)).toContain('+ spec.replicas: 5');
    expect(deployment('prod', 'myapp-canary').spec.replicas).toBe(1);
    since = h.mark();
    await approve(again);
    await after((c) => c.method === 'chat.postMessage' && /promoted by .* to step 2 of 2 \(50 %\): 5 of 10 pods/.test(c.args.text ?? ''));
    expect(deployment('prod', 'myapp-canary').spec.replicas).toBe(5);

    expect((await h.command('abort myapp prod', { channel: OPS, user: 'U0DEV' })).json.text).toContain('Queued');
    await h.kube.waitFor(() => !deployment('prod', 'myapp-canary'), 10_000, 'aborted without approval');
  });
});
