import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import {
  alertConfig,
  alertsMatching,
  deployment,
  IMAGE,
  podsOf,
  runningDeployment,
  shown,
  waitForAlert,
  waitForThreadReply,
  waitForUpdate,
} from './alerts-fixtures.js';

const h = useHarness({ name: 'alerts', config: alertConfig({ pendingFor: '300ms' }) });

describe('on-call alerts', () => {
  it('posts one message per OOMKilled workload with the diagnosis, threads further kills, says when it recovered', async () => {
    const [a, b] = await runningDeployment(h.kube, 'beta', 'leaky', {
      replicas: 2,
      limits: { memory: '256Mi' },
      requests: { cpu: '10m', memory: '128Mi' },
    });
    h.kube.appendLogs('beta', a.metadata.name, ['cache warm-up: 180Mi', 'cache warm-up: 250Mi']);
    const killedAt = Date.now();
    h.kube.oomKill('beta', a.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment leaky · beta/);
    const text = shown(alert);
    // The ≤ 1 s target is measured by bench/alerts.ts; here only that it is not held back (a loaded CI machine is slow).
    expect(alert.versions[0]!.at - killedAt).toBeLessThan(5_000);
    expect(text).toContain(a.metadata.name);
    expect(text).toContain(`\`${a.spec.nodeName}\``);
    expect(text).toContain('*Container*\\n`app`');
    expect(text).toContain('256Mi / 128Mi');
    expect(text).toContain('*Restarts*\\n1');
    expect(text).toContain('(exit 137)');
    expect(text).toContain('cache warm-up: 250Mi');
    expect(text).toContain('The limit 256Mi is below what `app` reached');
    expect(text).toContain('Raise it (e.g. to 384Mi)');

    h.kube.oomKill('beta', b.metadata.name);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Again: OOMKilled in pod \`${b.metadata.name}\` — 2 in total`));
    // No new kill and every pod healthy for recoverAfter (300 ms here): the thread says so and the headline turns green.
    await waitForThreadReply(h.slack, alert.ts, /Recovered: every pod of deployment leaky has been healthy/);
    const recovered = await waitForUpdate(h.slack, alert.ts, /Recovered — OOMKilled · deployment leaky · beta \(2 occurrences\)/);
    expect(shown(recovered)).not.toContain('Silence 1h');
    expect(alertsMatching(h.slack, /deployment leaky/)).toHaveLength(1);

    // A kill soon after recovery (within reopenWithin, 30 min by default) reopens the same incident in its thread.
    h.kube.oomKill('beta', a.metadata.name);
    await waitForThreadReply(h.slack, alert.ts, /Reopened: OOMKilled again in deployment leaky/);
    expect(alertsMatching(h.slack, /OOMKilled · deployment leaky/)).toHaveLength(1);
  });

  it('waits pendingFor before alerting an unschedulable pod, then names the node with the most room and what it lacks', async () => {
    h.kube.create(deployment('prod', 'hungry', { requests: { cpu: '500m', memory: '64Gi' } }));
    await h.kube.waitFor(
      () => podsOf(h.kube, 'prod', 'hungry').find((p) => p.status?.conditions?.some((c: any) => c.reason === 'Unschedulable')),
      5_000,
      'an unschedulable pod',
    );
    const pendingSeen = Date.now();
    const alert = await waitForAlert(h.slack, /Unschedulable · deployment hungry · prod/);
    // Never before pendingFor (small allowance for the emulator's event delivery).
    expect(alert.versions[0]!.at - pendingSeen).toBeGreaterThanOrEqual(280);
    const text = shown(alert);
    expect(text).toContain('*Scheduler says:* 0/3 nodes are available: 3 Insufficient memory.');
    expect(text).toContain('*Pod requests:* 500m CPU, 64Gi memory');
    expect(text).toMatch(/\*Most room:\* `node-\d` with [\d.]+m? CPU, [\d.]+\w+ memory free of 3 nodes — lacks [\d.]+\w+ memory/);
    expect(text).toContain('No node is big enough even when empty (largest: 4 CPU, 8Gi memory allocatable)');
    expect(text).toContain('in every namespace');
    expect(text).not.toContain('Show logs');
  });

  it('explains taints and a node selector when the scheduler names them', async () => {
    h.kube.addNode('gpu-1', { labels: { gpu: 'true' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    h.kube.create(deployment('beta', 'picky', { nodeSelector: { gpu: 'true' } }));
    const text = shown(await waitForAlert(h.slack, /Unschedulable · deployment picky · beta/));
    expect(text).toContain("node(s) didn't match Pod's node affinity/selector");
    expect(text).toContain('*Untolerated taints:* `gpu-1: dedicated=gpu:NoSchedule`');
    expect(text).toContain('*Node selector:* `gpu=true` matches 1 of 4 nodes');
    expect(text).toContain('add a toleration if the pod belongs there');
  });

  it("alerts an image that cannot be pulled with the image and the registry's error", async () => {
    h.kube.setImageBehavior(IMAGE('ghost', '9.9.9'), { kind: 'imagePullFailure' });
    h.kube.create(deployment('beta', 'ghost', { image: IMAGE('ghost', '9.9.9') }));
    const text = shown(await waitForAlert(h.slack, /(ErrImagePull|ImagePullBackOff) · deployment ghost · beta/));
    expect(text).toContain(`*Image*\\n\`${IMAGE('ghost', '9.9.9')}\``);
    expect(text).toMatch(/\*Registry says:\* rpc error: code = NotFound desc = failed to pull and unpack image .*not found/);
    expect(text).toContain('The registry has no such image: check the tag');
  });
});
