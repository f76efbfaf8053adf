import { describe, expect, it } from 'vitest';
import { isReservedLabelKey, reservedLabelProblem } from '../../src/kube/labels.js';
import { parseConfig } from '../../src/config/load.js';
import { strictestApproval } from '../../src/approvals/policy.js';
import { nodeScope } from '../../src/policy/node-scope.js';
import { loadVerbs } from '../../src/command/registry.js';

describe('reserved label keys', () => {
  it.each([
    'kubernetes.io/hostname',
    'node-role.kubernetes.io/control-plane',
    'node.kubernetes.io/exclude-from-external-load-balancers',
    'a.b.kubernetes.io/x',
    'k8s.io/x',
    'storage.k8s.io/x',
  ])('%s is reserved', (key) => {
    expect(isReservedLabelKey(key)).toBe(true);
    expect(reservedLabelProblem(key, [])).toMatch(/reserves \(kubernetes\.io, k8s\.io\)/);
    expect(reservedLabelProblem(key, [key])).toBeUndefined();
  });

  it.each(['team', 'example.com/team', 'notkubernetes.io/x', 'kubernetes.io.evil.com/x', 'k8s.io.example/x', 'mykubernetes.io/x'])(
    '%s is not',
    (key) => {
      expect(isReservedLabelKey(key)).toBe(false);
      expect(reservedLabelProblem(key, [])).toBeUndefined();
    },
  );

  it('allows exactly the listed keys, not their neighbours', () => {
    expect(reservedLabelProblem('node-role.kubernetes.io/worker', ['node-role.kubernetes.io/worker'])).toBeUndefined();
    expect(reservedLabelProblem('node-role.kubernetes.io/control-plane', ['node-role.kubernetes.io/worker'])).toBeDefined();
  });
});

const config = parseConfig(
  `
environments:
  a: { namespace: a, approval: { approvers: [U01X], minApprovals: 1, allowSelfApproval: true, timeout: 30m } }
  b: { namespace: b, approval: { approvers: [U02X], minApprovals: 2, timeout: 1h } }
  c: { namespace: c, approval: { approvers: [U03X], minApprovals: 2, timeout: 10m } }
  d: { namespace: d, approval: { approvers: [U04X], minApprovals: 5, commands: [deploy] } }
channels:
  C0ONE: { environments: [a], commands: ["*"] }
`,
  'c.yaml',
);

describe("strictest approval among a cluster's environments", () => {
  it('takes the most approvals, then no self-approval, then the shortest timeout; ignores rules not for this verb', async () => {
    const label = (await loadVerbs()).get('label')!;
    expect(strictestApproval(config, label, {}, ['a'])?.env).toBe('a');
    expect(strictestApproval(config, label, {}, ['a', 'b', 'c', 'd'])?.env).toBe('c');
    expect(strictestApproval(config, label, {}, ['d'])).toBeUndefined();
  });

  it("a node scope holds every environment of the cluster, not only the channel's", () => {
    expect(nodeScope(config, 'C0ONE', undefined).envs).toEqual(['a', 'b', 'c', 'd']);
    expect(() => nodeScope(config, 'C0NONE', undefined)).toThrow(/may touch no environment/);
    expect(() => nodeScope(config, 'C0ONE', 'constructor')).toThrow(/no environment `constructor`/);
  });
});
