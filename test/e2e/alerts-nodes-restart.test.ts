import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import { ONCALL, runningDeployment, waitForAlert, waitForThreadReply } from './alerts-fixtures.js';

const config = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
channels:
  ${ONCALL}: { environments: [beta], commands: ["*"] }
alerts:
  - environments: [beta]
    channel: ${ONCALL}
    on: [NodePressure]
    pendingFor: 0s
    recoverAfter: 300ms
`;

const h = useHarness({ name: 'alerts-nodes-restart', config });

describe('node alerts across a restart', () => {
  it('a restarted bot neither repeats a node alert nor forgets to say when it recovered', async () => {
    const pods = await runningDeployment(h.kube, 'beta', 'steady', { replicas: 1 });
    const node: string = pods[0].spec.nodeName;
    h.kube.setNodeCondition(node, 'DiskPressure', true);
    const alert = await waitForAlert(h.slack, new RegExp(`DiskPressure · node ${node}`));
    await h.restart();
    await h.kube.waitFor(
      () => h.kube.requests.filter((r) => r.path === '/api/v1/nodes' && ['true', '1'].includes(String(r.query.watch))).length >= 2,
      10_000,
      'the restarted bot watching nodes',
    );
    h.kube.setNodeCondition(node, 'DiskPressure', false);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Recovered: node \`${node}\` is no longer under DiskPressure`));
    expect(h.slack.topLevel(ONCALL).filter((m) => m.text.includes(`DiskPressure · node ${node}`))).toHaveLength(1);
  });
});
