/**
 * Requests and limits set in chat follow the app across progressive releases: a blue/green release's new colour
 * runs them and carries their record (status marks them, `resources --reset` resets the colour that serves), a
 * colour used again takes what serves now, not what it had before, and a canary runs what its stable runs.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  myapp:
    image: registry.example.com/team/myapp
    port: 8080
    replicas: 1
    progressDeadlineSeconds: 5
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
  web:
    image: registry.example.com/team/web
    port: 8080
    replicas: 3
    progressDeadlineSeconds: 5
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
    canary: { steps: [25, 50], maxRestarts: 0, maxUnready: 1m, maxDuration: 2h }
channels:
  ${OPS}: { environments: ["*"], commands: ["*"] }
alerts: []
`;
const CONFIGURED = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
const OVERRIDE = ['k8s-chatops.io/resources', 'k8s-chatops.io/resources-set-by', 'k8s-chatops.io/resources-set-at'];
const SET_FROM_CHAT = /:pencil2: \*Resources set from chat\* by <@U0ALICE> \(<!date\^\d+\^[^>]*>\): memory limit 512Mi \(config: 256Mi\)/;

const h = useHarness({ name: 'resources-override-bg', config: CONFIG, env: { CHATOPS_CANARY_WATCH_MS: '200' } });
let since = 0;
const deployment = (name: string) => h.kube.get('apps/v1', 'Deployment', 'beta', name);
const resources = (name: string) => deployment(name).spec.template.spec.containers[0].resources;
const annotations = (name: string) => (deployment(name).metadata.annotations ?? {}) as Record<string, string>;
const selector = () => h.kube.get('v1', 'Service', 'beta', 'myapp').spec.selector as Record<string, string>;
/** The memory limits of the running pods the Service selects (what gets traffic). */
const servedLimits = () =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => !p.metadata.deletionTimestamp && Object.entries(selector()).every(([k, v]) => p.metadata.labels?.[k] === v))
    .map((p) => p.spec.containers[0].resources?.limits?.memory as string | undefined);
/** The private answer whose text (or blocks) matches, as one string. */
const answer = async (res: { responseUrl: string }, match = /./) => {
  const r = await h.answer(res.responseUrl, (text) => match.test(text));
  return `${String(r.body.text)}\n${JSON.stringify(r.body.blocks ?? [])}`;
};
const status = async (app = 'myapp') => answer(await h.command(`status ${app} beta`, { channel: OPS }), new RegExp(app));
/** Runs a command and returns the thread of its job's final message. */
async function run(text: string, done: RegExp, user = 'U0OPS'): Promise<string> {
  const from = h.mark();
  expect((await h.command(text, { channel: OPS, user })).json.text).toContain('Queued');
  const final = await h.waitForFinal(done, { since: from });
  return h.threadText(OPS, String(final.args.ts));
}
/** `promote myapp beta --full` after a switch: the old colour (`old`) scaled to 0 and the app freed. */
async function finishSwitch(old: string): Promise<void> {
  const from = h.mark();
  await h.command('promote myapp beta --full', { channel: OPS, user: 'U0OPS' });
  await h.slack.waitForCall(
    (c) => c.seq > from && c.method === 'chat.postMessage' && (c.args.text ?? '').startsWith(`:white_check_mark: ${old} scaled to 0 by`),
    10_000,
  );
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS });
  await run(
    'resources myapp beta --memory-limit 512Mi',
    /:white_check_mark: resources myapp in beta: memory limit → 512Mi — done/,
    'U0ALICE',
  );
}, 30_000);
beforeEach(() => {
  since = h.mark();
});

describe('a blue/green release of an app with resources set from chat', () => {
  it('--dry-run shows the new colour with the chat-set values and their record', async () => {
    const res = await h.command('deploy myapp beta 2.0.0 --blue-green --dry-run', { channel: OPS, user: 'U0OPS' });
    const shown = await answer(res, /Dry run/);
    expect(shown).toContain('+ deployment myapp-green (namespace beta): created');
    expect(shown).toContain('+ spec.template.spec.containers[myapp].resources.limits.memory: 512Mi');
    expect(shown).toContain('+ metadata.annotations[\\"k8s-chatops.io/resources-set-by\\"]: U0ALICE');
    expect(shown).toContain('runs the resources set from chat: memory limit 512Mi (config: 256Mi)');
    expect(deployment('myapp-green')).toBeUndefined();
  });

  it('runs them on the new colour, which status marks as set from chat; switching back keeps them too', async () => {
    const thread = await run('deploy myapp beta 2.0.0 --blue-green', /:white_check_mark: deploy myapp 2\.0\.0 → beta \(blue\/green\)/);
    expect(thread).toContain('runs the resources set from chat: memory limit 512Mi (config: 256Mi)');
    expect(selector().color).toBe('green');
    expect(resources('myapp-green').limits).toEqual({ memory: '512Mi' });
    for (const key of OVERRIDE) expect(annotations('myapp-green')[key]).toBe(annotations('myapp')[key]);
    expect(servedLimits()).toEqual(['512Mi']);
    expect(await status()).toMatch(SET_FROM_CHAT);

    await h.command('abort myapp beta', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForCall((c) => c.seq > since && /Switched back by/.test(c.args.text ?? ''), 10_000);
    expect(selector().color).toBeUndefined();
    expect(servedLimits()).toEqual(['512Mi']);
    expect(await status()).toMatch(SET_FROM_CHAT);
  });

  it('a plain deploy keeps them on the colour that serves; resources --reset resets it to the config and drops the record, rollout followed', async () => {
    await run('deploy myapp beta 3.0.0 --blue-green', /:white_check_mark: deploy myapp 3\.0\.0 → beta \(blue\/green\)/);
    await finishSwitch('myapp');
    expect(await status()).toMatch(SET_FROM_CHAT);
    // A plain deploy rolls the serving colour in place and keeps them, as it says.
    const rolled = await run('deploy myapp beta 3.1.0', /:white_check_mark: deploy myapp 3\.1\.0 → beta — done/);
    expect(rolled).toContain('rolled in place');
    expect(rolled).toContain(
      'kept resources set from chat: memory limit 512Mi (config: 256Mi) (`resources myapp beta --reset` drops them)',
    );
    expect(resources('myapp-green').limits).toEqual({ memory: '512Mi' });
    expect(await status()).toMatch(SET_FROM_CHAT);

    const thread = await run('resources myapp beta --reset', /:white_check_mark: resources myapp in beta: back to the bot's config — done/);
    expect(thread).toContain('deployment myapp-green');
    expect(thread).toContain("back to the bot's config: memory limit 512Mi → 256Mi");
    expect(thread).toContain('the override set from chat is gone');
    expect(resources('myapp-green')).toEqual(CONFIGURED);
    for (const key of OVERRIDE) expect(annotations('myapp-green')[key]).toBeUndefined();
    await h.kube.waitFor(() => servedLimits().join() === '256Mi', 10_000, 'the serving pods on the config');
    expect(await status()).not.toContain('Resources set from chat');
  });

  it('a colour used again takes what serves now, not the values and record it had', async () => {
    // green gets its own override (by `resources`), blue is released from it, then blue is reset…
    await run('resources myapp beta --cpu-limit 1', /:white_check_mark: resources myapp in beta: cpu limit → 1 — done/, 'U0ALICE');
    await run('deploy myapp beta 4.0.0 --blue-green', /:white_check_mark: deploy myapp 4\.0\.0 → beta \(blue\/green\)/);
    await finishSwitch('myapp-green');
    expect(resources('myapp-blue').limits).toEqual({ cpu: '1', memory: '256Mi' });
    await run('resources myapp beta --reset', /:white_check_mark: resources myapp in beta: back to the bot's config — done/);
    expect(resources('myapp-blue')).toEqual(CONFIGURED);

    // …so green, released again from blue, runs the config and carries no record of what it had: its dry run shows that.
    const rv = deployment('myapp-green').metadata.resourceVersion;
    const dry = await answer(await h.command('deploy myapp beta 5.0.0 --blue-green --dry-run', { channel: OPS, user: 'U0OPS' }), /Dry run/);
    expect(dry).toContain('~ deployment myapp-green (namespace beta): changed');
    expect(dry).toContain('- spec.template.spec.containers[myapp].resources.limits.cpu: \\"1\\"');
    expect(dry).toContain('- metadata.annotations[\\"k8s-chatops.io/resources-set-by\\"]: U0ALICE');
    expect(dry).not.toContain('+ metadata.annotations[\\"k8s-chatops.io/resources');
    expect(dry).toContain(
      'Left on myapp-green from its last release and dropped first: cpu limit 1, the record of resources set from chat.',
    );
    expect(deployment('myapp-green').metadata.resourceVersion).toBe(rv);
    const thread = await run('deploy myapp beta 5.0.0 --blue-green', /:white_check_mark: deploy myapp 5\.0\.0 → beta \(blue\/green\)/);
    expect(thread).toContain('(left from its last release and dropped: cpu limit 1, the record of resources set from chat)');
    expect(thread).not.toContain('runs the resources set from chat');
    expect(selector().color).toBe('green');
    expect(resources('myapp-green')).toEqual(CONFIGURED);
    for (const key of OVERRIDE) expect(annotations('myapp-green')[key]).toBeUndefined();
    expect(servedLimits()).toEqual(['256Mi']);
    expect(await status()).not.toContain('Resources set from chat');
  });
});

describe('a canary of an app with resources set from chat', () => {
  it('runs what the stable runs, chat-set values included, and says so', async () => {
    await h.deployAndWait('web', 'beta', '1.0.0', { channel: OPS });
    await run(
      'resources web beta --memory-limit 384Mi',
      /:white_check_mark: resources web in beta: memory limit → 384Mi — done/,
      'U0ALICE',
    );
    since = h.mark();
    await h.command('deploy web beta 2.0.0 --canary', { channel: OPS, user: 'U0OPS' });
    const live = await h.waitForFinal(/Canary of \*web\* in \*beta\*/, { since });
    expect(h.threadText(OPS, String(live.args.ts))).toContain(
      'runs the resources set from chat on web: memory limit 384Mi (config: 256Mi)',
    );
    expect(deployment('web-canary').spec.template.spec.containers[0].resources.limits).toEqual({ memory: '384Mi' });
    for (const key of OVERRIDE) expect(annotations('web-canary')[key]).toBe(annotations('web')[key]);

    since = h.mark();
    await h.command('abort web beta', { channel: OPS, user: 'U0OPS' });
    await h.slack.waitForCall((c) => c.seq > since && /Canary of web in beta aborted by/.test(c.args.text ?? ''), 10_000);
    expect(annotations('web')['k8s-chatops.io/resources-set-by']).toBe('U0ALICE');
  });
});
