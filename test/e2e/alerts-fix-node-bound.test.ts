import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryBytes } from '../../src/kube/capacity.js';
import { startHarness, type Harness } from '../support/harness.js';
import { alertsMatching, ONCALL, podsOf, runningDeployment, shown, waitForAlert, waitForUpdate } from './alerts-fixtures.js';

/**
 * The Raise memory limit button never offers more than the cluster's largest node has: dev's bound
 * (64Gi) is above every node, so `resources` itself would let a too-large limit through there.
 */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  dev: { cluster: default, namespace: dev, limits: { maxMemory: 64Gi } }
  beta: { cluster: default, namespace: beta }
apps:
  hungry: { image: registry.example.com/team/hungry, workload: { kind: Deployment, name: hungry, container: app } }
  huge: { image: registry.example.com/team/huge, workload: { kind: Deployment, name: huge, container: app } }
  greedy: { image: registry.example.com/team/greedy, workload: { kind: Deployment, name: greedy, container: app } }
channels:
  ${ONCALL}: { environments: [dev, beta], commands: ["*"] }
alerts:
  - { environments: [dev, beta], channel: ${ONCALL}, on: [OOMKilled, Unschedulable], pendingFor: 300ms, recoverAfter: 60s }
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ name: 'alerts-fix-node-bound', config: CONFIG, namespaces: ['default', 'dev', 'beta'] });
  // The emulator's nodes have 8Gi; this one is the largest.
  h.kube.addNode('node-big', { cpu: '8', memory: '12Gi' });
});
afterAll(async () => {
  await h?.stop();
});

/** The most memory a ready, schedulable node has free now, as the scheduler counts it (allocatable minus the requests of its pods). */
function mostFreeMemory(): number {
  const pods = ['dev', 'beta']
    .flatMap((ns) => h.kube.list('v1', 'Pod', ns))
    .filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase));
  const requested = (node: string) =>
    pods
      .filter((p) => p.spec.nodeName === node)
      .flatMap((p) => p.spec.containers)
      .reduce((sum: number, c: any) => sum + memoryBytes(c.resources?.requests?.memory), 0);
  return Math.max(
    ...h.kube
      .list('v1', 'Node')
      .filter((n) => !n.spec.unschedulable)
      .map((n) => memoryBytes(n.status.allocatable.memory) - requested(n.metadata.name)),
  );
}

const buttons = (m: { blocks?: any[] }) => (m.blocks ?? []).flatMap((b) => (b.type === 'actions' ? b.elements : []));
const limitOf = (env: string, app: string) =>
  h.kube.get('apps/v1', 'Deployment', env, app).spec.template.spec.containers[0].resources.limits.memory as string;

describe('Raise memory limit, bounded by the largest node', () => {
  it('caps the raise at what the largest node has, says so, and the clicked change leaves no pod Pending', async () => {
    const [pod] = await runningDeployment(h.kube, 'dev', 'hungry', {
      limits: { memory: '10Gi' },
      requests: { cpu: '10m', memory: '1Gi' },
    });
    h.kube.oomKill('dev', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment hungry · dev/);
    // 1.5 × 10Gi = 15Gi would fit no node: the button offers node-big's 12Gi instead.
    const offered = await waitForUpdate(h.slack, alert.ts, /Raise memory limit to 12Gi/);
    expect(shown(offered)).toContain(
      "(capped at what the largest node of `dev`'s cluster, `node-big` (12Gi allocatable) has; 1.5 × the limit 10Gi would fit no node)",
    );
    const fixLine = JSON.stringify((offered.blocks ?? []).filter((b: any) => JSON.stringify(b).includes(':wrench:')));
    expect(fixLine).toContain('runs `resources hungry dev --memory-limit 12Gi` as you');
    expect(fixLine).not.toContain('15Gi');
    expect(buttons(offered).map((b: any) => b.text.text)).not.toContainEqual(expect.stringMatching(/15Gi/));
    // Nor does the hint above it: it defers to the fix line instead of naming 1.5 × the limit.
    expect(shown(offered)).not.toContain('15Gi');
    expect(shown(offered)).toContain('Raise it if this is its normal load (the fix on this alert names a value');
    const raise = buttons(offered).find((b: any) => b.text.text === 'Raise memory limit to 12Gi');
    expect(raise.action_id).toBe('chatops_run:fix');

    const since = h.mark();
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0ONCALL',
      user_name: 'u0oncall',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: raise.action_id,
      value: raise.value,
      response_url: responseUrl,
    });
    const ack = await h.answer(responseUrl);
    expect(ack.body.text).toContain('Queued `resources hungry in dev: memory limit → 12Gi`');
    const final = await h.waitForFinal(/resources hungry in dev: memory limit → 12Gi — (done|failed)/, { since });
    expect(String(final.args.text)).toMatch(/— done/);
    expect(limitOf('dev', 'hungry')).toBe('12Gi');
    // Nothing Pending: the new pod is bound to a node and running, and no Unschedulable alert came.
    const pods = podsOf(h.kube, 'dev', 'hungry');
    expect(pods.map((p) => [p.spec.containers[0].resources.limits.memory, Boolean(p.spec.nodeName), p.status.phase])).toEqual([
      ['12Gi', true, 'Running'],
    ]);
    expect(alertsMatching(h.slack, /Unschedulable/)).toEqual([]);
  });

  it('offers no raise when the limit is already more than the largest node has, and says why', async () => {
    const [pod] = await runningDeployment(h.kube, 'beta', 'huge', {
      limits: { memory: '16Gi' },
      requests: { cpu: '10m', memory: '1Gi' },
    });
    h.kube.oomKill('beta', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment huge · beta/);
    const noted = await waitForUpdate(h.slack, alert.ts, /so no raise is offered/);
    expect(shown(noted)).toContain(
      "The memory limit 16Gi is already more than what the largest node of `beta`'s cluster, `node-big` (12Gi allocatable) has, so no raise is offered: no node could give it more.",
    );
    expect(buttons(noted).map((b: any) => b.text.text)).not.toContainEqual(expect.stringMatching(/Raise/));
    expect(limitOf('beta', 'huge')).toBe('16Gi');
  });

  it('caps at the most free memory on a node when the container sets no memory request, and the clicked change leaves no pod Pending', async () => {
    // No memory request: the pod asks the scheduler for its 7Gi limit, and a raised limit raises that too.
    const [pod] = await runningDeployment(h.kube, 'dev', 'greedy', { limits: { memory: '7Gi' }, requests: { cpu: '10m' } });
    h.kube.oomKill('dev', pod.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment greedy · dev/);
    const offered = await waitForUpdate(h.slack, alert.ts, /Raise memory limit to \d+[MG]i/);
    expect(shown(offered)).toContain(
      '`app` sets no memory request, so its pods ask for their limit, and 1.5 × the limit 7Gi would leave them Pending',
    );
    const raise = buttons(offered).find((b: any) => String(b.text.text).startsWith('Raise memory limit to '));
    const to = String(raise.text.text).slice('Raise memory limit to '.length);
    // Above the limit, within what a node has free (less than node-big's 12Gi allocatable, and than 1.5 × 7Gi).
    expect(memoryBytes(to)).toBeGreaterThan(memoryBytes('7Gi'));
    expect(memoryBytes(to)).toBeLessThanOrEqual(mostFreeMemory());

    const since = h.mark();
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0ONCALL',
      user_name: 'u0oncall',
      channel_id: ONCALL,
      message_ts: alert.ts,
      action_id: raise.action_id,
      value: raise.value,
      response_url: responseUrl,
    });
    await h.answer(responseUrl, /Queued/);
    const final = await h.waitForFinal(new RegExp(`resources greedy in dev: memory limit → ${to} — (done|failed)`), { since });
    expect(String(final.args.text)).toMatch(/— done/);
    const pods = podsOf(h.kube, 'dev', 'greedy');
    expect(pods.map((p) => [p.spec.containers[0].resources.requests.memory, Boolean(p.spec.nodeName), p.status.phase])).toEqual([
      [to, true, 'Running'],
    ]);
    expect(alertsMatching(h.slack, /Unschedulable/)).toEqual([]);
  });
});
