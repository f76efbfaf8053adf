import { describe, expect, it } from 'vitest';
import { SIGNING_SECRET } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';
import { postSlashCommand } from '../support/slack/index.js';

const h = useHarness({ name: 'intake' });

/** Calls about workloads (the start-up permission check's access reviews don't count). */
const kubeCalls = () => h.kube.requests.filter((r) => !r.path.includes('selfsubjectaccessreviews')).length;

describe('what reaches the cluster, and what does not', () => {
  it('refuses a prod deploy from the dev channel, says what the channel may do, and calls nothing', async () => {
    const before = kubeCalls();
    const res = await h.command('deploy myapp prod 1.0.0');
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toMatch(/may not touch `prod`.*may run `deploy`, `status`.*on `beta`/s);
    expect(kubeCalls()).toBe(before);
    expect(await h.chatops.queue.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({
      waiting: 0,
      active: 0,
      completed: 0,
      failed: 0,
    });
  });

  it.each([
    ['deploy', /Missing `&lt;app&gt;`/],
    ['deploy ../etc beta', /DNS-1123/],
    ['deploy myapp beta 1.0;reboot', /image tag/],
    ['deploy myapp beta $(id)', /image tag/],
    ['deploy nope beta', /no app `nope`.*known: `myapp`, `hungry`/s],
    ['deplyo myapp beta', /Did you mean `deploy`/],
    ['x'.repeat(10_000), /at most 1000/],
  ])('answers bad input %# with its reason and usage, and calls nothing', async (text, expected) => {
    const before = kubeCalls();
    const res = await h.command(text);
    expect(res.status).toBe(200);
    expect(res.json.text).toMatch(expected);
    expect(kubeCalls()).toBe(before);
  });

  it('refuses a bad or stale signature with 401 and does nothing', async () => {
    const before = h.slack.calls.length;
    const bad = await postSlashCommand(
      h.eventsUrl,
      SIGNING_SECRET,
      { text: 'deploy myapp beta', channel_id: 'C0DEVTEAM', user_id: 'U0DEV' },
      { badSignature: true },
    );
    expect(bad.status).toBe(401);
    const stale = await postSlashCommand(
      h.eventsUrl,
      SIGNING_SECRET,
      { text: 'deploy myapp beta', channel_id: 'C0DEVTEAM', user_id: 'U0DEV' },
      { timestampSec: Math.floor(Date.now() / 1000) - 600 },
    );
    expect(stale.status).toBe(401);
    expect(h.slack.calls.length).toBe(before);
    expect(await h.chatops.queue.count()).toBe(0);
  });

  it('lists only the verbs this channel may use in help', async () => {
    const res = await h.command('help');
    expect(res.json.text).toContain('`/k8s deploy &lt;app&gt; &lt;env&gt; [version] [--canary [percent]] [--blue-green]`');
    expect(res.json.text).not.toContain('/k8s label');
    const access = await h.command('access', { channel: 'C0NOBODY' });
    expect(access.json.text).toContain('not bound to any environment');
  });

  it('shows the status of an app and of an environment', async () => {
    await h.deployAndWait('myapp', 'beta', '3.1.0');
    const res = await h.command('status myapp beta');
    expect(res.json.text).toContain('status of myapp in beta');
    const answer = await h.answer(res.responseUrl);
    const shown = JSON.stringify(answer.body.blocks);
    expect(answer.body.text).toMatch(/myapp in beta: 2\/2 available/);
    expect(shown).toContain('registry.example.com/team/myapp:3.1.0');
    expect(shown).toMatch(/myapp-[a-z0-9]+-[a-z0-9]+ +Running/);
    const env = await h.command('status beta');
    const envAnswer = await h.answer(env.responseUrl);
    expect(JSON.stringify(envAnswer.body.blocks)).toMatch(/myapp +Deployment +2\/2/);
  });

  it('says plainly when an app has never been deployed', async () => {
    const res = await h.command('status myapp prod', { channel: 'C0OPS' });
    const answer = await h.answer(res.responseUrl);
    expect(answer.body.text).toMatch(/deployment myapp in namespace prod not found — has it been deployed\?/);
  });

  it('tells the user how to invite the bot when it is not in the channel', async () => {
    h.slack.setBotNotInChannel('C0OPS');
    const res = await h.command('deploy myapp beta 3.2.0', { channel: 'C0OPS' });
    const hint = await h.answer(res.responseUrl, /invite/i);
    expect(hint.body.text).toContain('/invite @k8s-chatops');
    const final = await h.answer(res.responseUrl, /deploy myapp 3\.2\.0 → beta — done/);
    expect(final.body.response_type).toBe('ephemeral');
    h.slack.setBotNotInChannel('C0OPS', false);
  });

  it('serves health, readiness and metrics on the same port', async () => {
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(await ready.json()).toMatchObject({ ok: true, checks: { redis: true, slack: true } });
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/chatops_commands_total\{verb="deploy",outcome="denied"\} \d+/);
    expect(metrics).toContain('chatops_ack_seconds_bucket');
  });
});
