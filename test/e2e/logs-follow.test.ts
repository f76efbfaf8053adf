import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { SlackCall } from '../support/slack/types.js';

const h = useHarness({ name: 'logs-follow' });
const OPS = 'C0OPS';

const myappPods = () =>
  h.kube
    .list('v1', 'Pod', 'beta')
    .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp' && p.status?.phase === 'Running')
    .map((p) => p.metadata.name as string)
    .sort();

/** Starts a live tail and returns its headline (the thread root) once posted. */
async function startTail(text: string): Promise<{ headline: SlackCall; since: number }> {
  const since = h.mark();
  const res = await h.command(text, { channel: OPS, user: 'U0OPS' });
  expect(res.json.text).toContain('live tail of myapp in beta');
  const headline = await h.slack.waitForCall(
    (c) => c.seq > since && c.method === 'chat.postMessage' && /Following logs of myapp in beta/.test(String(c.args.text)),
    10_000,
  );
  return { headline, since };
}

const tsOf = (call: SlackCall) => h.slack.calls.find((c) => c.seq === call.seq && c.method === 'chat.postMessage')?.response?.ts as string;

/** Waits until the tail in `thread` shows all of `texts` (re-checked on every Slack call). */
async function tailShows(thread: string, since: number, ...texts: string[]): Promise<void> {
  const shows = () => texts.every((t) => tailTextIn(thread, since).includes(t));
  if (!shows()) await h.slack.waitForCall(() => shows(), 10_000);
}

/** The tail message's text as last posted or updated in the headline's thread. */
function tailTextIn(thread: string, since: number): string {
  const posted = h.slack.calls.find(
    (c) => c.seq > since && c.method === 'chat.postMessage' && c.args.thread_ts === thread && /line/.test(String(c.args.text)),
  );
  if (!posted) return '';
  const ts = posted.response?.ts;
  const updates = h.slack.calls.filter((c) => c.seq > posted.seq && c.method === 'chat.update' && c.args.ts === ts);
  const last = updates.at(-1) ?? posted;
  return JSON.stringify(last.args.blocks ?? []);
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);

describe('/k8s logs --follow', () => {
  it('streams new lines of every pod into one message, picks up new pods, and stops by the button with a file', async () => {
    const { headline, since } = await startTail('logs myapp beta --follow 2m');
    const thread = tsOf(headline);
    expect(thread).toBeTruthy();
    const stop = headline.args.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.text?.text === 'Stop');
    expect(stop).toBeDefined();

    const [a, b] = myappPods();
    h.kube.appendLogs('beta', a!, ['first line from a <!channel>']);
    h.kube.appendLogs('beta', b!, ['first line from b']);
    await tailShows(thread, since, 'first line from a', 'first line from b');
    // Cluster text is escaped: no ping.
    expect(tailTextIn(thread, since)).not.toContain('<!channel>');
    expect(tailTextIn(thread, since)).toContain(`[${a}/myapp] first line from a`);

    // A pod that did not exist when the tail began is followed as soon as it runs.
    h.kube.remove('v1', 'Pod', 'beta', a!);
    await h.kube.waitFor(() => myappPods().some((p) => p !== a && p !== b), 10_000, 'a replacement pod runs');
    const fresh = myappPods().find((p) => p !== a && p !== b)!;
    // Written before or after its stream opens, the line shows: a new stream starts with the last lines.
    h.kube.appendLogs('beta', fresh, ['hello from the new pod']);
    await tailShows(thread, since, 'hello from the new pod');

    // At most one update of the tail message a second.
    const tailTs = h.slack.calls.find((c) => c.seq > since && c.method === 'chat.postMessage' && c.args.thread_ts === thread)?.response?.ts;
    const updates = h.slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === tailTs).map((c) => c.at);
    for (let i = 1; i < updates.length; i++) expect(updates[i]! - updates[i - 1]!).toBeGreaterThanOrEqual(900);

    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: thread,
      action_id: stop.action_id,
      value: stop.value,
      response_url: h.slack.newResponseUrl(),
    });
    const ended = await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === thread && /was stopped/.test(String(c.args.text)),
      10_000,
    );
    expect(ended.args.blocks.flatMap((b: any) => b.elements ?? []).some((e: any) => e.text?.text === 'Stop')).toBe(false);
    const upload = h.slack.uploads.at(-1)!;
    expect(upload.filename).toBe('logs-myapp-beta-follow.txt');
    const file = upload.bytes.toString('utf8');
    expect(file).toContain(`[${a}/myapp] first line from a <!channel>\n`);
    expect(file).toContain(`[${fresh}/myapp] hello from the new pod\n`);
  });

  it('ends by itself at its deadline', async () => {
    const { headline } = await startTail('logs myapp beta --follow 5s --grep needle');
    const thread = tsOf(headline);
    const [a] = myappPods();
    h.kube.appendLogs('beta', a!, ['hay', 'a needle here']);
    const ended = await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === thread && /ran for its whole time/.test(String(c.args.text)),
      15_000,
    );
    expect(ended.args.text).toMatch(/1 line from 2 pods/);
  });

  it('refuses what it cannot do, before anything runs', async () => {
    for (const [text, why] of [
      ['logs myapp beta --follow 20m', /follow lasts from `5s` to `10m`/],
      ['logs myapp beta --follow --previous', /use one/],
      ['logs myapp beta --stop nothex', /stop takes the id of a live tail/],
    ] as const) {
      const res = await h.command(text, { channel: OPS, user: 'U0OPS' });
      const shown = res.json.text.startsWith(':hourglass') ? (await h.answer(res.responseUrl)).body.text : res.json.text;
      expect(shown, text).toMatch(why);
    }
  });
});
