import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

/** The usual e2e config, with a secret key on myapp and a dev channel that may not describe. */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace('    env: { LOG_LEVEL: info }\n', '    env: { LOG_LEVEL: info, DB_PASSWORD: hunter2-secret }\n    secretKeys: [DB_PASSWORD]\n')
    .replace('channels:\n', 'channels:\n  C0NARROW: { environments: [beta], commands: [status] }\n');

const h = useHarness({ name: 'inspect-verbs', config: CONFIG });

async function answer(text: string, channel = 'C0OPS'): Promise<{ ack: any; body: any; shown: string }> {
  const res = await h.command(text, { channel, user: 'U0OPS' });
  const post = await h.answer(res.responseUrl);
  return { ack: res.json, body: post.body, shown: `${post.body.text}\n${JSON.stringify(post.body.blocks ?? [])}` };
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: 'C0OPS', user: 'U0OPS' });
}, 30_000);

describe('/k8s describe', () => {
  it('shows image, resources, env with secrets masked, pods and recent events', async () => {
    // A value taken from a Secret shows its source, never a value.
    const d = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    expect(d).toBeDefined();
    const { shown, body } = await answer('describe myapp beta');
    expect(body.response_type).toBe('ephemeral');
    expect(shown).toContain('describe myapp in beta');
    expect(shown).toContain('registry.example.com/team/myapp:1.0.0');
    expect(shown).toContain('requests cpu=100m, memory=128Mi');
    expect(shown).toContain('limits memory=256Mi');
    expect(shown).not.toContain('hunter2-secret');
    for (const pod of h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp')) {
      expect(shown).toContain(pod.metadata.name);
    }
    expect(shown).toMatch(/Scheduled ×\d+/);
  });

  it('escapes what the cluster says, so an event cannot ping the channel', async () => {
    const pod = h.kube.list('v1', 'Pod', 'beta').find((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp');
    h.kube.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'hostile.1', namespace: 'beta' },
      involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: 'beta' },
      reason: 'Hostile',
      message: '<!channel> re-login at <https://evil.example|https://sso.corp.example>',
      type: 'Warning',
      count: 1,
      lastTimestamp: new Date().toISOString(),
    });
    const { shown } = await answer('describe myapp beta');
    expect(shown).toContain('Hostile');
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<https://evil');
    expect(shown).toContain('&lt;!channel&gt;');
  });

  it('says plainly when the app is not configured, and calls nothing', async () => {
    const before = h.kube.requests.length;
    const res = await h.command('describe nosuchapp beta', { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toContain('no app `nosuchapp`');
    expect(h.kube.requests.length).toBe(before);
  });

  it('is refused in a channel without the verb', async () => {
    const before = h.kube.requests.length;
    const res = await h.command('describe myapp beta', { channel: 'C0NARROW', user: 'U0DEV' });
    expect(res.json.text).toMatch(/may not|not allowed/i);
    expect(h.kube.requests.length).toBe(before);
  });
});

describe('/k8s events', () => {
  it('groups the events of the app, its revisions and pods by reason with counts', async () => {
    const { shown } = await answer('events myapp beta');
    expect(shown).toMatch(/events of myapp in beta, last 1h/);
    expect(shown).toMatch(/Scheduled ×2/);
    expect(shown).toMatch(/ScalingReplicaSet|SuccessfulCreate/);
  });

  it('shows only warnings with --warnings, and only recent ones with --since', async () => {
    const pod = h.kube.list('v1', 'Pod', 'beta').find((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp');
    const old = new Date(Date.now() - 3 * 60 * 60 * 1_000).toISOString();
    h.kube.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'old.1', namespace: 'beta' },
      involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: 'beta' },
      reason: 'AncientBackOff',
      message: 'long ago',
      type: 'Warning',
      count: 4,
      lastTimestamp: old,
    });
    const warnings = await answer('events myapp beta --warnings --since 2h');
    expect(warnings.shown).not.toContain('Scheduled');
    expect(warnings.shown).not.toContain('AncientBackOff');
    const longer = await answer('events myapp beta --warnings --since 4h');
    expect(longer.shown).toContain('AncientBackOff ×4');
  });

  it('answers a bad --since with the usage line and calls nothing', async () => {
    const before = h.kube.requests.length;
    const res = await h.command('events myapp beta --since forever', { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toContain('since must be a duration');
    expect(res.json.text).toContain('events &lt;app&gt; &lt;env&gt;');
    expect(h.kube.requests.length).toBe(before);
  });
});

describe('/k8s logs --grep and --since', () => {
  const myappPods = () =>
    h.kube
      .list('v1', 'Pod', 'beta')
      .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp' && !p.metadata.deletionTimestamp);

  it('keeps only the matching lines of every pod, and says how it searched', async () => {
    const [a, b] = myappPods().map((p) => p.metadata.name as string);
    h.kube.appendLogs('beta', a!, ['GET /api 200 3ms', 'POST /api 503 900ms', 'db timeout after 5s']);
    h.kube.appendLogs('beta', b!, ['GET /health 200 1ms', 'GET /api 500 12ms']);
    const regex = await answer('logs myapp beta --grep 5\\d\\d');
    expect(regex.shown).toContain('POST /api 503 900ms');
    expect(regex.shown).toContain('GET /api 500 12ms');
    expect(regex.shown).not.toContain('GET /api 200');
    expect(regex.body.text).toContain('matching `5\\d\\d`');
    const word = await answer('logs myapp beta --grep timeout');
    expect(word.shown).toContain('db timeout after 5s');
    expect(word.shown).toContain('no matching lines');
    expect(word.body.text).toContain('containing `timeout`');
  });

  it('reads only the last --since window', async () => {
    const pod = myappPods()[0]!.metadata.name as string;
    h.kube.appendLogs('beta', pod, ['ancient line from yesterday'], undefined, Date.now() - 24 * 60 * 60 * 1_000);
    h.kube.appendLogs('beta', pod, ['fresh line just now']);
    const { shown } = await answer(`logs myapp beta --pod ${pod} --since 10m`);
    expect(shown).toContain('fresh line just now');
    expect(shown).not.toContain('ancient line');
    const call = h.kube.requests.filter((r) => r.path.endsWith('/log')).at(-1);
    expect(call?.query.sinceSeconds).toBe('600');
  });

  it('refuses a pattern that could hang the worker before reading anything', async () => {
    const logReads = () => h.kube.requests.filter((r) => r.path.endsWith('/log')).length;
    const before = logReads();
    const res = await h.command('logs myapp beta --grep (a+)+$', { channel: 'C0OPS', user: 'U0OPS' });
    const post = await h.answer(res.responseUrl);
    expect(post.body.text).toContain('nested repetition');
    expect(logReads()).toBe(before);
  });
});
