import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/alerts/incidents.js';
import { useHarness } from '../support/use-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { ONCALL, podsOf, runningDeployment, shown, waitForAlert, waitForThreadReply, waitForUpdate } from './alerts-fixtures.js';

/** A channel whose rule takes node alerts of every node (`nodes: true`), watching prod. */
const NODES = 'C0NODES';
/** Another `nodes: true` rule, with no grace: it shows a flap was seen. */
const WITNESS = 'C0WITNESS';

const config = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
channels:
  ${ONCALL}: { environments: [beta], commands: ["*"] }
  ${NODES}: { environments: [prod], commands: ["*"] }
  ${WITNESS}: { environments: [prod], commands: ["*"] }
alerts:
  - environments: [beta]
    channel: ${ONCALL}
    on: [OOMKilled, Evicted, NodeNotReady, NodePressure]
    pendingFor: 0s
    recoverAfter: 300ms
  - environments: [prod]
    channel: ${NODES}
    on: [NodeNotReady]
    nodes: true
    pendingFor: 1s
    recoverAfter: 300ms
  - environments: [prod]
    channel: ${WITNESS}
    on: [NodeNotReady]
    nodes: true
    pendingFor: 0s
    recoverAfter: 300ms
`;

const h = useHarness({ name: 'alerts-nodes', config });
let redis: Redis;
beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  await h.kube.waitFor(
    () => h.kube.requests.some((r) => r.path === '/api/v1/nodes' && ['true', '1'].includes(String(r.query.watch))),
    10_000,
    'the bot watching nodes',
  );
});
afterAll(() => {
  redis?.disconnect();
});

describe('node health alerts', () => {
  it('alerts a NotReady node with the kubelet message and the workloads on it by environment, then its recovery', async () => {
    const pods = await runningDeployment(h.kube, 'beta', 'web', { replicas: 1 });
    const node: string = pods[0].spec.nodeName;
    h.kube.setNodeCondition(node, 'Ready', true, { message: 'PLEG is not healthy: <@U0EVIL> *bold* `x`' });
    const call = await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.ok &&
        c.args.channel === ONCALL &&
        !c.args.thread_ts &&
        c.args.text.includes(`NodeNotReady · node ${node} · cluster default`),
    );
    const alert = h.slack.message(ONCALL, call.response.ts)!;
    const text = shown(alert);
    expect(text).toContain('`Ready` is `False` (KubeletNotReady)');
    // The kubelet's message is escaped: no mention, no formatting reaches Slack.
    expect(text).toContain('PLEG is not healthy: &lt;@U0EVIL&gt;');
    expect(text).not.toContain('<@U0EVIL>');
    expect(text).toContain('*Workloads with pods on the node:*\\n• `beta`: deployment web (1 pod)');
    expect(text).toMatch(/\*Since\*\\n<!date\^\d+/);
    // The `nodes: true` rule of prod gets it too, though prod has no pod there.
    await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.ok &&
        c.args.channel === NODES &&
        c.args.text.includes(`NodeNotReady · node ${node} · cluster`),
    );

    h.kube.setNodeCondition(node, 'Ready', false);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Recovered: node \`${node}\` is Ready again`));
    await waitForUpdate(h.slack, alert.ts, new RegExp(`Recovered — NodeNotReady · node ${node}`));
  });

  it('alerts memory pressure as NodePressure naming the condition, and says when it cleared', async () => {
    const pods = await runningDeployment(h.kube, 'beta', 'cache', { replicas: 1 });
    const node: string = pods[0].spec.nodeName;
    h.kube.setNodeCondition(node, 'MemoryPressure', true);
    const alert = await waitForAlert(h.slack, new RegExp(`MemoryPressure · node ${node}`));
    const text = shown(alert);
    expect(text).toContain('`MemoryPressure` is `True` (KubeletHasInsufficientMemory)');
    expect(text).toContain('*Kubelet says:* kubelet has insufficient memory available');
    expect(text).toContain('deployment cache (1 pod)');
    expect(text).toContain('short of memory');
    // `nodes` shows each node's conditions, the troubled one first, with since when and the kubelet's words.
    const res = await h.command('nodes', { channel: ONCALL, user: 'U0ONCALL' });
    const post = await h.answer(res.responseUrl);
    const nodes = (post.body.blocks as any[]).map((b) => String(b.text?.text ?? '')).find((t) => t.startsWith('*Conditions*')) ?? '';
    expect(nodes.split('\n')[1]).toMatch(
      new RegExp(
        `^• \`${node}\`: Ready since <!date\\^\\d+.* · :warning: MemoryPressure \`True\` since <!date.* \\(KubeletHasInsufficientMemory\\): kubelet has insufficient memory available$`,
      ),
    );
    expect(nodes).toContain('no memory, disk or PID pressure');
    // MemoryPressure is not routed to the prod rule (it takes NodeNotReady only).
    h.kube.setNodeCondition(node, 'MemoryPressure', false);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Recovered: node \`${node}\` is no longer under MemoryPressure`));
    expect(h.slack.topLevel(NODES).filter((m) => /MemoryPressure/.test(m.text))).toHaveLength(0);
  });

  it('sends a node without pods of a rule only to the `nodes: true` rule', async () => {
    h.kube.addNode('spare-1');
    h.kube.setNodeCondition('spare-1', 'Ready', true);
    await h.slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.ok && c.args.channel === NODES && /NodeNotReady · node spare-1/.test(String(c.args.text)),
    );
    // The beta rule saw the same node at the same time: it recorded nothing (no beta pod there).
    const incidents = await new IncidentStore(redis, h.prefix).openIncidents();
    await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' && c.ok && c.args.channel === WITNESS && /NodeNotReady · node spare-1/.test(String(c.args.text)),
    );
    expect(
      incidents
        .filter((s) => s.workload.name === 'spare-1')
        .map((s) => s.channel)
        .sort(),
    ).toEqual([NODES, WITNESS].sort());
    h.kube.setNodeCondition('spare-1', 'Ready', false);
  });

  it("waits out the rule's pendingFor: a flap shorter than it posts nothing, a condition that lasts posts", async () => {
    h.kube.addNode('flappy-1');
    h.kube.addNode('steady-1');
    // Only the `nodes: true` rules take these nodes (neither has a beta pod): NODES with pendingFor 1s, WITNESS with none.
    h.kube.setNodeCondition('flappy-1', 'Ready', true);
    // The bot saw the flap: the rule without grace posts it at once.
    await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' && c.ok && c.args.channel === WITNESS && /NodeNotReady · node flappy-1/.test(String(c.args.text)),
    );
    h.kube.setNodeCondition('flappy-1', 'Ready', false);
    // steady-1 goes bad after flappy-1 has cleared, so its grace ends after flappy-1's would have.
    h.kube.setNodeCondition('steady-1', 'Ready', true);
    const set = Date.now();
    const post = await h.slack.waitForCall(
      (c) =>
        c.method === 'chat.postMessage' && c.ok && c.args.channel === NODES && /NodeNotReady · node steady-1/.test(String(c.args.text)),
    );
    expect(post.at - set).toBeGreaterThanOrEqual(900);
    expect(
      h.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === NODES && /flappy-1/.test(String(c.args.text))),
    ).toHaveLength(0);
    const incidents = await new IncidentStore(redis, h.prefix).openIncidents();
    expect(incidents.filter((s) => s.workload.name === 'flappy-1' && s.channel === NODES)).toHaveLength(0);
    h.kube.setNodeCondition('steady-1', 'Ready', false);
  });

  it('alerts an evicted pod under its workload with the node and the kubelet message; the replacement recovers it', async () => {
    const [pod] = await runningDeployment(h.kube, 'beta', 'greedy', { replicas: 1, requests: { cpu: '10m', memory: '16Mi' } });
    h.kube.evictPod('beta', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /Evicted · deployment greedy · beta/);
    const text = shown(alert);
    expect(text).toContain(`\`${pod.metadata.name}\``);
    expect(text).toContain(`\`${pod.spec.nodeName}\``);
    expect(text).toContain('*Reason*\\nlow on memory');
    expect(text).toContain('The node was low on resource: memory. Threshold quantity: 100Mi');
    expect(text).toContain('request is 16Mi');
    // The ReplicaSet replaces the failed pod; once it is ready the incident recovers.
    await h.kube.waitFor(() => podsOf(h.kube, 'beta', 'greedy').some((p) => p.status?.phase === 'Running'), 5_000, 'a replacement');
    await waitForThreadReply(h.slack, alert.ts, /Recovered: every pod of deployment greedy has been healthy/);
  });
});
