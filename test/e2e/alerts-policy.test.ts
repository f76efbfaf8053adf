/**
 * The alert buttons obey the channel's binding like any command: Show logs is
 * `logs` on the incident's environment; Silence needs the channel bound to that
 * environment. A refused click is told why, and nothing happens.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../support/slack/index.js';
import { useHarness } from '../support/use-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { deployment, IMAGE, ONCALL } from './alerts-fixtures.js';

const UNBOUND = 'C0NOBIND';
const MEMBER = 'U0ONCALL';
const STRANGER = 'U0STRANGER';

/** C0ONCALL may run `status` and `logs` in beta, for U0ONCALL only; it also gets prod's alerts. C0NOBIND is not bound at all. */
const config = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
channels:
  ${ONCALL}: { environments: [beta], commands: [status, logs], members: [${MEMBER}] }
alerts:
  - environments: [beta, prod]
    channel: ${ONCALL}
    on: [CrashLoopBackOff]
  - environments: [beta]
    channel: ${UNBOUND}
    on: [CrashLoopBackOff]
`;

const h = useHarness({ name: 'alerts-policy', config });
let redis: Redis;
const alerts: Record<'beta' | 'prod' | 'unbound', StoredMessage> = {} as never;

async function alertIn(channel: string, env: string): Promise<StoredMessage> {
  const call = await h.slack.waitForCall(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.ok &&
      !c.args.thread_ts &&
      c.args.channel === channel &&
      new RegExp(`CrashLoopBackOff · deployment crashy · ${env}`).test(String(c.args.text)),
    10_000,
  );
  return h.slack.message(channel, call.response.ts)!;
}

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  h.kube.setImageBehavior(IMAGE('crashy'), { kind: 'crashLoop', exitCode: 3, logLines: ['FATAL: DATABASE_URL is not set'] });
  h.kube.create(deployment('beta', 'crashy'));
  h.kube.create(deployment('prod', 'crashy'));
  [alerts.beta, alerts.prod, alerts.unbound] = await Promise.all([
    alertIn(ONCALL, 'beta'),
    alertIn(ONCALL, 'prod'),
    alertIn(UNBOUND, 'beta'),
  ]);
});
afterAll(() => {
  redis?.disconnect();
});

const buttonValue = (m: { blocks?: any[] }, actionId: string): string =>
  m.blocks?.flatMap((b) => (b.type === 'actions' ? b.elements : [])).find((e: any) => e.action_id === actionId)?.value;

/** Clicks a button of the alert as `user` in `channel`; resolves with what the clicker alone was told. */
async function click(
  alert: StoredMessage,
  channel: string,
  user: string,
  actionId: 'chatops_alert_logs' | 'chatops_alert_silence:1h',
): Promise<string> {
  const value = actionId === 'chatops_alert_logs' ? buttonValue(alert, actionId) : `${buttonValue(alert, actionId).split('|')[0]}|1h`;
  const responseUrl = h.slack.newResponseUrl();
  await h.click({ user_id: user, channel_id: channel, message_ts: alert.ts, action_id: actionId, value, response_url: responseUrl });
  const answer = await h.answer(responseUrl);
  expect(answer.body.response_type).toBe('ephemeral');
  return String(answer.body.text);
}

const silenced = async (alert: StoredMessage) =>
  (await redis.exists(`${h.prefix}:chatops:alerts:silence:${buttonValue(alert, 'chatops_alert_silence:1h').split('|')[0]}`)) === 1;
const logsShownTo = (user: string) => h.slack.calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user);

describe('alert buttons and the channel policy', () => {
  it('a channel that is not bound may neither show logs nor silence', async () => {
    expect(await click(alerts.unbound, UNBOUND, MEMBER, 'chatops_alert_logs')).toMatch(
      /^:no_entry: This channel is not bound to any environment.*Ops can bind it under `channels`/,
    );
    expect(await click(alerts.unbound, UNBOUND, MEMBER, 'chatops_alert_silence:1h')).toMatch(
      /^:no_entry: This channel is not bound to any environment/,
    );
    expect(await silenced(alerts.unbound)).toBe(false);
  });

  it('a channel bound to beta only may not show prod logs nor silence prod alerts', async () => {
    expect(await click(alerts.prod, ONCALL, MEMBER, 'chatops_alert_logs')).toMatch(
      /^:no_entry: This channel may not touch `prod`\. This channel may run `logs`, `status` on `beta`. Only <@U0ONCALL> may use it.$/,
    );
    expect(await click(alerts.prod, ONCALL, MEMBER, 'chatops_alert_silence:1h')).toMatch(
      /^:no_entry: This channel may not touch `prod`, so it may not silence its alerts; ask ops to bind it to `prod`/,
    );
    expect(await silenced(alerts.prod)).toBe(false);
  });

  it("someone who is not among the binding's members is refused", async () => {
    expect(await click(alerts.beta, ONCALL, STRANGER, 'chatops_alert_logs')).toMatch(
      /^:no_entry: You are not one of the people allowed to use this channel's binding/,
    );
    expect(await click(alerts.beta, ONCALL, STRANGER, 'chatops_alert_silence:1h')).toMatch(
      /^:no_entry: You are not one of the people allowed/,
    );
    expect(await silenced(alerts.beta)).toBe(false);
  });

  it('a member of a channel bound to the environment may do both; the refused clicks showed nothing', async () => {
    const since = h.slack.calls.length;
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: MEMBER,
      channel_id: ONCALL,
      message_ts: alerts.beta.ts,
      action_id: 'chatops_alert_logs',
      value: buttonValue(alerts.beta, 'chatops_alert_logs'),
      response_url: responseUrl,
    });
    const shown = await h.slack.waitForCall((c) => c.seq > since && c.method === 'chat.postEphemeral' && c.args.user === MEMBER);
    expect(shown.args.text).toContain('FATAL: DATABASE_URL is not set');
    // Every Show logs click before this one was refused: none of them reached the alerts role.
    expect(logsShownTo(MEMBER)).toHaveLength(1);
    expect(logsShownTo(STRANGER)).toHaveLength(0);

    const id = buttonValue(alerts.beta, 'chatops_alert_silence:1h').split('|')[0]!;
    await h.click({
      user_id: MEMBER,
      channel_id: ONCALL,
      message_ts: alerts.beta.ts,
      action_id: 'chatops_alert_silence:1h',
      value: `${id}|1h`,
      response_url: h.slack.newResponseUrl(),
    });
    await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.thread_ts === alerts.beta.ts &&
        /Silenced for 1h by <@U0ONCALL>/.test(String(c.args.text)),
    );
    expect(await silenced(alerts.beta)).toBe(true);
    expect(await silenced(alerts.prod)).toBe(false);
    expect(await silenced(alerts.unbound)).toBe(false);
  });
});
