import { beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import type { SlackCall } from '../support/slack/index.js';

/**
 * Two clusters (both served by the one emulator): `main` runs beta and prod (prod needs
 * approval), `lab` runs only `lab`. `node-role.kubernetes.io/worker` is allowed by config.
 */
const CONFIG = (kubeconfig: string) => `
clusters:
  main: { context: emulator, kubeconfig: ${kubeconfig} }
  lab: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: main, namespace: beta }
  prod:
    cluster: main
    namespace: prod
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, timeout: 30m }
  lab: { cluster: lab, namespace: default }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
  C0BETAOPS: { environments: [beta], commands: [label, nodes] }
  C0LAB: { environments: [lab], commands: [label] }
nodeLabels:
  allow: [node-role.kubernetes.io/worker]
`;

const h = useHarness({ name: 'label-policy', config: CONFIG });
let since = 0;
beforeEach(() => {
  since = h.mark();
});

const after = (pred: (c: SlackCall) => boolean, ms = 10_000) => h.slack.waitForCall((c) => c.seq > since && pred(c), ms);
const labelsOf = (name: string) => h.kube.get('v1', 'Node', undefined, name).metadata.labels as Record<string, string>;
// Writes to nodes; the dry run that works out an approval request's diff (dryRun=All) writes nothing.
const nodePatches = () =>
  h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/nodes/') && r.query.dryRun !== 'All').length;

describe('label keys Kubernetes acts on', () => {
  it.each([
    ['label node-1 node-role.kubernetes.io/control-plane=', 'node-role.kubernetes.io/control-plane'],
    [
      'label node-1 node.kubernetes.io/exclude-from-external-load-balancers=true',
      'node.kubernetes.io/exclude-from-external-load-balancers',
    ],
    ['label node-1 kubernetes.io/role-', 'kubernetes.io/role'],
    ['label node-1 team=payments storage.k8s.io/pool=fast', 'storage.k8s.io/pool'],
    ['label node-1 k8s.io/anything=x', 'k8s.io/anything'],
  ])('refuses `%s` with the reason, even from a channel bound to "*", and changes nothing', async (text, key) => {
    const before = { patches: nodePatches(), labels: labelsOf('node-1') };
    const res = await h.command(`${text} --env lab`, { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toContain(`\`${key}\` is under a domain Kubernetes reserves (kubernetes.io, k8s.io)`);
    expect(res.json.text).toContain('`nodeLabels.allow`');
    expect(await h.chatops.queue.count()).toBe(0);
    expect(nodePatches()).toBe(before.patches);
    expect(labelsOf('node-1')).toEqual(before.labels);
    const audited = await h.chatops.services.audit.recent({ verb: 'label', limit: 1 });
    expect(audited[0]).toMatchObject({ outcome: 'denied' });
  });

  it('lets an ordinary key through at once on a cluster whose environments need no approval', async () => {
    const res = await h.command('label node-2 team=payments', { channel: 'C0LAB', user: 'U0LABBER' });
    expect(res.json.text).toContain('Queued `label node node-2 team=payments`');
    await after((c) => c.method === 'chat.update' && /:white_check_mark: label node node-2: team=payments/.test(c.args.text));
    expect(labelsOf('node-2').team).toBe('payments');
  });
});

describe('a node belongs to its cluster', () => {
  it("refuses a channel that is not bound to every environment on the node's cluster", async () => {
    const before = nodePatches();
    const res = await h.command('label node-1 team=payments', { channel: 'C0BETAOPS', user: 'U0DEV' });
    expect(res.json.text).toMatch(
      /:no_entry: A node of cluster `main` serves every environment on it \(`beta`, `prod`\), so changing it needs all of them\. This channel may not touch `prod`/,
    );
    expect(await h.chatops.queue.count()).toBe(0);
    expect(nodePatches()).toBe(before);
    expect(labelsOf('node-1').team).toBeUndefined();
  });

  it('asks which cluster when the channel reaches several', async () => {
    const res = await h.command('label node-1 team=payments', { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toMatch(/reaches nodes of 2 clusters; say which with `--env`/);
    expect(await h.chatops.queue.count()).toBe(0);
  });

  it('goes through the approval of the strictest environment on the cluster, then applies what was approved', async () => {
    const before = nodePatches();
    const ack = await h.command('label node-3 node-role.kubernetes.io/worker= team=payments --env beta', {
      channel: 'C0OPS',
      user: 'U0OPS',
    });
    expect(ack.json.text).toContain('needs approval in `prod`');
    const request = await h.waitForApproval({ since });
    expect(nodePatches()).toBe(before);
    expect(labelsOf('node-3')['node-role.kubernetes.io/worker']).toBeUndefined();

    const click = async (user: string) => (await h.clickApproval(request, user)).text;
    expect(await click('U0SOMEONE')).toContain('not an approver for `prod`');
    expect(await click('U0OPSLEAD')).toContain('Approved');
    await after((c) => c.method === 'chat.update' && /:white_check_mark: label node node-3/.test(c.args.text));
    expect(labelsOf('node-3')).toMatchObject({ 'node-role.kubernetes.io/worker': '', team: 'payments' });
  });
});
