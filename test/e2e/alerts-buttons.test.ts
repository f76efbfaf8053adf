import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { alertConfig, deployment, IMAGE, ONCALL, shown, waitForAlert, waitForThreadReply, waitForUpdate } from './alerts-fixtures.js';

const h = useHarness({ name: 'alerts-buttons', config: alertConfig({ pendingFor: '300ms' }) });
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(() => {
  redis?.disconnect();
});

const buttonValue = (m: { blocks?: any[] }, actionId: string, text?: string): string | undefined =>
  m.blocks
    ?.flatMap((b) => (b.type === 'actions' ? b.elements : []))
    .find((e: any) => e.action_id === actionId && (!text || e.text.text === text))?.value;

describe('a crash loop, and the buttons on its alert', () => {
  let alert: Awaited<ReturnType<typeof waitForAlert>>;
  beforeAll(async () => {
    h.kube.setImageBehavior(IMAGE('crashy'), {
      kind: 'crashLoop',
      exitCode: 3,
      logLines: ['loading config', 'FATAL: DATABASE_URL is not set'],
    });
    // A 2 s progress deadline, so the restart's rollout (crashing too) ends quickly.
    h.kube.create(deployment('beta', 'crashy', { progressDeadlineSeconds: 2 }));
    alert = await waitForAlert(h.slack, /CrashLoopBackOff · deployment crashy · beta/);
  });
  afterAll(() => {
    h.kube.remove('apps/v1', 'Deployment', 'beta', 'crashy');
  });

  it("alerts the crash loop with the exit code and the previous instance's last log lines", () => {
    const text = shown(alert);
    expect(text).toContain('*Last exit*\\n3 (Error)');
    expect(text).toContain('FATAL: DATABASE_URL is not set');
    expect(text).toContain('Last log lines of the previous instance');
  });

  it('Show logs answers the clicker alone with the last lines', async () => {
    const id = buttonValue(alert, 'chatops_alert_logs')!;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    await h.click({
      user_id: 'U0ONCALL',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: 'chatops_alert_logs',
      value: id,
      response_url: h.slack.newResponseUrl(),
    });
    const call = await h.slack.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0ONCALL');
    expect(call.args.channel).toBe(ONCALL);
    expect(call.args.text).toMatch(/Last 2 log lines of `crashy-[a-z0-9-]+` \/ `app`/);
    expect(call.args.text).toContain('FATAL: DATABASE_URL is not set');
  });

  it('Show logs reaches a clicker who is not a member of the channel through the response_url', async () => {
    h.slack.setUserNotInChannel(ONCALL, 'U0VISITOR');
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0VISITOR',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: 'chatops_alert_logs',
      value: buttonValue(alert, 'chatops_alert_logs')!,
      response_url: responseUrl,
    });
    const answer = await h.answer(responseUrl, /Last 2 log lines/);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toContain('FATAL: DATABASE_URL is not set');
    const refused = h.slack.calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0VISITOR');
    expect(refused.map((c) => c.response?.error)).toEqual(['user_not_in_channel']);
  });

  it("Restart runs `restart crashy beta` as the clicker, reporting in the alert's thread", async () => {
    const withRestart = await waitForUpdate(h.slack, alert.ts, /"text":"Restart"/);
    const intent = buttonValue(withRestart, 'chatops_run', 'Restart')!;
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0ONCALL',
      user_name: 'oncall',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: 'chatops_run',
      value: intent,
      response_url: responseUrl,
    });
    const ack = await h.answer(responseUrl);
    expect(ack.body.text).toContain('Queued `restart crashy in beta`');
    await waitForThreadReply(h.slack, alert.ts, /restart crashy in beta, requested by <@U0ONCALL>/);
    await h.kube.waitFor(
      () =>
        h.kube.get('apps/v1', 'Deployment', 'beta', 'crashy')?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'],
      5_000,
      'the restart annotation',
    );
    // The new pods crash too: the rollout misses its 2 s deadline and the job says so in the same thread.
    await h.slack.waitForCall((c) => c.method === 'chat.update' && /restart crashy in beta — failed/.test(c.args.text), 10_000);
  });

  it('Silence 1h is stored with its expiry, said in the thread, and keeps the thread quiet while counting', async () => {
    const id = buttonValue(alert, 'chatops_alert_silence:1h')!.split('|')[0]!;
    await h.click({
      user_id: 'U0ONCALL',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: 'chatops_alert_silence:1h',
      value: `${id}|1h`,
      response_url: h.slack.newResponseUrl(),
    });
    const note = await waitForThreadReply(h.slack, alert.ts, /Silenced for 1h by <@U0ONCALL>/);
    const ttl = await redis.pttl(`${h.prefix}:chatops:alerts:silence:${id}`);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    const silenced = await waitForUpdate(h.slack, alert.ts, /silenced until .* by <@U0ONCALL>/);
    const countAt = (m: { text: string }) => Number(/(\d+) occurrences/.exec(m.text)?.[1] ?? 1);
    const before = countAt(silenced);
    // The loop goes on: the count rises on the message, and nothing more is posted in the thread.
    const later = await h.slack.waitForCall(
      (c) => c.method === 'chat.update' && c.args.ts === alert.ts && countAt({ text: c.args.text }) > before,
      10_000,
    );
    expect(later.args.text).toMatch(/CrashLoopBackOff · deployment crashy · beta — \d+ occurrences/);
    const afterNote = h.slack.thread(ONCALL, alert.ts).filter((m) => Number(m.ts) > Number(note.ts));
    expect(afterNote.map((m) => m.text).filter((t) => /Again|more occurrences/.test(t))).toEqual([]);
  });
});
