import { beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/alerts/incidents.js';
import { SilenceStore } from '../../src/alerts/silences.js';
import { useHarness } from '../support/use-harness.js';
import type { StoredMessage } from '../support/slack/index.js';
import { runningDeployment, waitForThreadReply } from './alerts-fixtures.js';

/**
 * `silence <node> <env> NodeNotReady …`: a node is in no environment, so the silence covers its
 * alert in every channel it is routed to whose rule has an environment the silencer's channel may touch.
 */
const BETA_ALERTS = 'C0BETAALERTS';
const PROD_ALERTS = 'C0PRODALERTS';
const OPS = 'C0OPS';
const BETA_DEV = 'C0BETADEV';
const STAGING = 'C0STAGING';

const config = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
  staging: { cluster: default, namespace: staging }
channels:
  ${OPS}: { environments: [beta, prod], commands: ["*"] }
  ${BETA_DEV}: { environments: [beta], commands: ["*"] }
  ${STAGING}: { environments: [staging], commands: ["*"] }
  ${BETA_ALERTS}: { environments: [beta], commands: ["*"] }
  ${PROD_ALERTS}: { environments: [prod], commands: ["*"] }
alerts:
  - { environments: [beta], channel: ${BETA_ALERTS}, on: [NodeNotReady], pendingFor: 0s, recoverAfter: 1h }
  - { environments: [prod], channel: ${PROD_ALERTS}, on: [NodeNotReady], nodes: true, pendingFor: 0s, recoverAfter: 1h }
silences: { minDuration: 1s, maxDuration: 1d }
`;

const h = useHarness({ name: 'alerts-node-silence', config });
let node: string;
const alerts: Record<string, StoredMessage> = {};
const incident = (channel: string) =>
  incidentId({
    channel,
    cluster: 'default',
    namespace: '',
    env: 'any',
    workload: { kind: 'Node', name: node },
    kind: 'NodeNotReady',
    condition: 'Ready',
  });

beforeAll(async () => {
  await h.kube.waitFor(
    () => h.kube.requests.some((r) => r.path === '/api/v1/nodes' && ['true', '1'].includes(String(r.query.watch))),
    10_000,
    'the bot watching nodes',
  );
  const pods = await runningDeployment(h.kube, 'beta', 'web', { replicas: 1 });
  node = pods[0].spec.nodeName;
  h.kube.setNodeCondition(node, 'Ready', true);
  // The beta rule gets it for the beta pod on the node; the prod rule (`nodes: true`) for any node.
  for (const channel of [BETA_ALERTS, PROD_ALERTS]) {
    const call = await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.ok &&
        c.args.channel === channel &&
        !c.args.thread_ts &&
        String(c.args.text).includes(`NodeNotReady · node ${node}`),
      10_000,
    );
    alerts[channel] = h.slack.message(channel, call.response.ts)!;
  }
});

const say = async (text: string, channel: string) => String((await h.command(text, { channel, user: 'U0ONCALL' })).json.text);
const silenceId = (text: string) => /`(sil-[0-9a-f]{8})`/.exec(text)?.[1] ?? '';
const recordOf = (id: string) => new SilenceStore(h.chatops.services.redis, h.chatops.services.prefix).get(id);

describe('silencing a node', () => {
  it('is refused, naming the channels, when every channel it goes to is for environments the silencer may not touch', async () => {
    const text = await say(`silence ${node} staging NodeNotReady 1h`, STAGING);
    expect(text).toContain(
      `NodeNotReady of a node goes only to <#${BETA_ALERTS}> (for \`beta\`) and <#${PROD_ALERTS}> (for \`prod\`): environments this channel may not touch`,
    );
    expect(text).not.toContain('Silenced');
  });

  it('from a channel bound to beta covers the beta alert channel only, and says which it leaves out', async () => {
    const text = await say(`silence ${node} beta NodeNotReady 1h drain`, BETA_DEV);
    expect(text).toContain(`Covers its alerts in <#${BETA_ALERTS}>; not in <#${PROD_ALERTS}> (for \`prod\`)`);
    const id = silenceId(text);
    expect((await recordOf(id))?.incidents).toEqual([incident(BETA_ALERTS)]);
    await waitForThreadReply(
      h.slack,
      alerts[BETA_ALERTS]!.ts,
      new RegExp(`Silenced for 1h by <@U0ONCALL>[\\s\\S]*${id}`),
      10_000,
      BETA_ALERTS,
    );
  });

  it('named with prod, covers the node alert wherever it is routed that the channel may silence: beta’s channel too', async () => {
    const text = await say(`silence ${node} prod NodeNotReady 2h kernel upgrade`, OPS);
    expect(text).toContain(`Silenced NodeNotReady of node \`${node}\``);
    expect(text).toContain(`Covers its alerts in <#${BETA_ALERTS}> and <#${PROD_ALERTS}>.`);
    const id = silenceId(text);
    expect((await recordOf(id))?.incidents).toEqual([incident(BETA_ALERTS), incident(PROD_ALERTS)]);
    // Both open incidents (filed under beta and under prod) say so in their thread.
    for (const channel of [BETA_ALERTS, PROD_ALERTS])
      await waitForThreadReply(h.slack, alerts[channel]!.ts, new RegExp(`Silenced for 2h by <@U0ONCALL>[\\s\\S]*${id}`), 10_000, channel);
  });

  it('is listed where it covers alerts, and lifted only by a channel that may touch every environment it covers', async () => {
    const set = await say(`silence ${node} prod NodeNotReady 1h`, OPS);
    const id = silenceId(set);
    // Set from prod, it also covers the beta channel's alert: a channel bound to beta sees it, but may not lift the prod part.
    expect(await say('silences', BETA_DEV)).toContain(
      `\`${id}\` NodeNotReady of node \`${node}\` in \`prod\` (alerts of \`beta\`, \`prod\`)`,
    );
    expect(await say(`unsilence ${id}`, BETA_DEV)).toContain('This channel may not touch `prod`, so it may not lift its silences');
    expect(await say(`unsilence ${id}`, OPS)).toContain(`Lifted \`${id}\``);
    for (const channel of [BETA_ALERTS, PROD_ALERTS])
      await waitForThreadReply(h.slack, alerts[channel]!.ts, new RegExp(`<@U0ONCALL> lifted the silence \`${id}\``), 10_000, channel);
  });
});
