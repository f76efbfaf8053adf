import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { StoredMessage } from '../support/slack/index.js';
import { ONCALL, runningDeployment, shown, waitForAlert, waitForThreadReply, waitForUpdate } from './alerts-fixtures.js';

const PROD = 'C0PRODTEAM';

const config = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
apps:
  leaky: { image: registry.example.com/team/leaky }
channels:
  ${ONCALL}: { environments: [beta], commands: ["*"] }
  ${PROD}: { environments: [prod], commands: ["*"] }
alerts:
  - environments: [beta, prod]
    channel: ${ONCALL}
    on: [OOMKilled, NodeNotReady]
    recoverAfter: 1h
silences: { minDuration: 1s, maxDuration: 1d }
`;

const h = useHarness({ name: 'alerts-silences', config });
let alert: StoredMessage;
let pods: any[];
beforeAll(async () => {
  pods = await runningDeployment(h.kube, 'beta', 'leaky', { replicas: 3, limits: { memory: '64Mi' } });
  h.kube.oomKill('beta', pods[0].metadata.name, undefined, { restartAfterMs: 50 });
  alert = await waitForAlert(h.slack, /OOMKilled · deployment leaky · beta/);
});

const say = async (text: string, channel = ONCALL) => {
  const res = await h.command(text, { channel, user: 'U0ONCALL' });
  return { text: String(res.json.text), type: String(res.json.response_type) };
};

/** The next chat.update of the alert after `since` whose content passes `test`. */
const nextUpdate = (since: number, test: (text: string) => boolean) =>
  h.slack.waitForCall(
    (c) =>
      c.seq > since &&
      c.method === 'chat.update' &&
      c.ok &&
      c.args.ts === alert.ts &&
      test(shown({ text: String(c.args.text), blocks: c.args.blocks } as StoredMessage)),
    10_000,
  );
const lastSeq = () => h.slack.calls.at(-1)?.seq ?? 0;

describe('silences as commands', () => {
  it('refuses bad input with the usage line and changes nothing', async () => {
    expect((await say('silence leaky beta OOMKilled forever')).text).toContain(
      'Usage: `/k8s silence &lt;app|node&gt; &lt;env&gt; &lt;kind&gt; &lt;duration&gt; [reason]`',
    );
    expect((await say('silence leaky beta Sunburn 1h')).text).toContain('kind is one of OOMKilled, Unschedulable');
    expect((await say('silence leaky beta OOMKilled 2d')).text).toContain('A silence lasts between 1s and 24h here');
    expect((await say('silence nosuch beta OOMKilled 1h')).text).toContain('`nosuch` is not an app');
    expect((await say('unsilence 12345')).text).toContain('a silence id looks like `sil-1a2b3c4d`');
    expect((await say('silences')).text).toContain('No silences in force');
  });

  it('silences an open incident: noted in its thread and headline, listed, later kills counted but not posted, audited', async () => {
    const since = lastSeq();
    const set = await say('silence leaky beta OOMKilled 2h known leak <@U0EVIL>');
    expect(set.type).toBe('in_channel');
    expect(set.text).toContain('Silenced OOMKilled of app `leaky` in `beta` for 2h');
    expect(set.text).toContain('Reason: known leak &lt;@U0EVIL&gt;');
    const id = /`(sil-[0-9a-f]{8})`/.exec(set.text)![1]!;
    const note = await waitForThreadReply(h.slack, alert.ts, /Silenced for 2h by <@U0ONCALL>/);
    expect(shown(note)).toContain('Reason: known leak &lt;@U0EVIL&gt;');
    expect(shown(note)).toContain(`/k8s unsilence ${id}`);
    await nextUpdate(since, (t) => /silenced until .* by <@U0ONCALL>/.test(t));

    const listed = await say('silences');
    expect(listed.text).toContain(`\`${id}\` OOMKilled of app \`leaky\` in \`beta\``);
    expect(listed.text).toContain('known leak &lt;@U0EVIL&gt;');

    const beforeKill = lastSeq();
    h.kube.oomKill('beta', pods[1].metadata.name, undefined, { restartAfterMs: 50 });
    await nextUpdate(beforeKill, (t) => t.includes('2 occurrences'));
    expect(h.slack.thread(ONCALL, alert.ts).filter((m) => /Again: OOMKilled/.test(m.text))).toHaveLength(0);

    const audited = await h.chatops.services.audit.recent({ verb: 'silence', limit: 5 });
    expect(audited.map((e) => [e.outcome, e.env, e.app, e.ref])).toContainEqual(['succeeded', 'beta', 'leaky', id]);

    // Another channel sees and lifts only the silences of its own environments.
    expect((await say('silences', PROD)).text).toContain('No silences in force');
    expect((await say(`unsilence ${id}`, PROD)).text).toContain('This channel may not touch `beta`, so it may not lift its silences');
    expect((await say('silence leaky beta OOMKilled 1h', PROD)).text).toContain('may not touch `beta`');

    const lifting = lastSeq();
    const lifted = await say(`unsilence ${id}`);
    expect(lifted.text).toContain(`Lifted \`${id}\``);
    expect(lifted.text).toContain('Noted in the open incident’s thread.');
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`<@U0ONCALL> lifted the silence \`${id}\`: occurrences are posted here again`));
    await nextUpdate(lifting, (t) => !t.includes('silenced until'));
    expect((await say('silences')).text).toContain('No silences in force');
    h.kube.oomKill('beta', pods[2].metadata.name, undefined, { restartAfterMs: 50 });
    await waitForThreadReply(h.slack, alert.ts, /Again: OOMKilled in pod/);
  });

  it('ends by itself: the headline drops "silenced" at the expiry and the next kill is posted again', async () => {
    const since = lastSeq();
    const set = await say('silence leaky beta OOMKilled 2s');
    expect(set.text).toContain('for 2s');
    await nextUpdate(since, (t) => t.includes('silenced until'));
    const silencedAt = lastSeq();
    // No sleep: the delayed delivery job at the expiry updates the headline.
    await nextUpdate(silencedAt, (t) => !t.includes('silenced until'));
    h.kube.oomKill('beta', pods[0].metadata.name, undefined, { restartAfterMs: 50 });
    await waitForUpdate(h.slack, alert.ts, /4 occurrences/);
    await waitForThreadReply(h.slack, alert.ts, /Again: OOMKilled in pod .* 4 in total/);
  });

  it('silences a node kind by node name', async () => {
    const set = await say('silence node-1 beta NodeNotReady 1h maintenance');
    expect(set.text).toContain('Silenced NodeNotReady of node `node-1` in `beta`');
    expect((await say('silences')).text).toContain('NodeNotReady of node `node-1`');
    expect((await say('silence node-1 beta Evicted 1h')).text).toContain('`node-1` is not an app');
  });
});
