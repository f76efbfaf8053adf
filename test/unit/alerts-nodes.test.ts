import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { detect } from '../../src/alerts/detect.js';
import { diagnosisBlocks, headlineMessage, headlineText, recoveredReply, silencedReply } from '../../src/alerts/messages.js';
import { conditionCleared, diagnoseEvicted, nodeFindings, type NodeDiagnosis } from '../../src/alerts/node-health.js';
import { routeNodeFinding, type NodeRule } from '../../src/alerts/routes.js';

const T = '2026-12-07T10:00:00Z';
const node = (conditions: Array<[string, string, string?]>): V1Node => ({
  metadata: { name: 'node-1', uid: 'u1' },
  status: {
    conditions: conditions.map(([type, status, message]) => ({
      type,
      status,
      reason: `R-${type}`,
      ...(message ? { message } : {}),
      lastTransitionTime: T as unknown as Date,
    })),
  },
});
const healthy: Array<[string, string]> = [
  ['MemoryPressure', 'False'],
  ['DiskPressure', 'False'],
  ['PIDPressure', 'False'],
  ['Ready', 'True'],
];

describe('node findings', () => {
  it('reports nothing for a healthy node, NodeNotReady for Ready False or Unknown, NodePressure per pressure', () => {
    expect(nodeFindings(node(healthy))).toEqual([]);
    const [f] = nodeFindings(node([['Ready', 'Unknown', 'Kubelet stopped posting node status.']]));
    expect(f).toMatchObject({ kind: 'NodeNotReady', node: 'node-1', condition: 'Ready', status: 'Unknown' });
    expect(f?.message).toBe('Kubelet stopped posting node status.');
    expect(f?.at).toBe(Date.parse(T));
    // The transition is the occurrence: the same condition seen again is not new.
    expect(f?.occurrence).toBe(Date.parse(T) / 1_000);
    const pressures = nodeFindings(
      node([
        ['MemoryPressure', 'True'],
        ['DiskPressure', 'True'],
        ['PIDPressure', 'False'],
        ['Ready', 'True'],
      ]),
    );
    expect(pressures.map((p) => [p.kind, p.condition])).toEqual([
      ['NodePressure', 'MemoryPressure'],
      ['NodePressure', 'DiskPressure'],
    ]);
  });

  it('a node without a Ready condition yet is not NotReady; a condition clears when Ready is True or a pressure is not True', () => {
    expect(nodeFindings(node([]))).toEqual([]);
    expect(conditionCleared(node([['Ready', 'False']]), 'Ready')).toBe(false);
    expect(conditionCleared(node([['Ready', 'True']]), 'Ready')).toBe(true);
    expect(conditionCleared(node([['MemoryPressure', 'True']]), 'MemoryPressure')).toBe(false);
    expect(conditionCleared(node([['MemoryPressure', 'Unknown']]), 'MemoryPressure')).toBe(true);
    expect(conditionCleared(undefined, 'Ready')).toBe(true);
  });
});

describe('node routing', () => {
  const rule = (channel: string, envs: Array<[string, string]>, allNodes = false): NodeRule => ({
    channel,
    environments: envs.map(([env, namespace]) => ({ env, namespace })),
    allNodes,
    kinds: new Set(['NodeNotReady'] as const),
    pendingForMs: 0,
    recoverAfterMs: 1,
    reopenWithinMs: 2,
  });

  it('goes to rules whose environments have pods on the node, or with nodes: true; one route per channel', () => {
    const rules = [rule('C1', [['beta', 'beta-ns']]), rule('C2', [['prod', 'prod-ns']]), rule('C3', [['prod', 'prod-ns']], true)];
    expect(routeNodeFinding(rules, 'NodeNotReady', new Set(['beta-ns'])).map((r) => [r.channel, r.env])).toEqual([
      ['C1', 'beta'],
      ['C3', 'prod'],
    ]);
    expect(routeNodeFinding(rules, 'NodeNotReady', new Set()).map((r) => r.channel)).toEqual(['C3']);
    expect(routeNodeFinding(rules, 'NodePressure', new Set(['beta-ns']))).toEqual([]);
    expect(routeNodeFinding([rule('C1', [['beta', 'b']]), rule('C1', [['prod', 'p']], true)], 'NodeNotReady', new Set())).toHaveLength(1);
  });
});

describe('evictions and node messages', () => {
  const evicted: V1Pod = {
    metadata: { name: 'web-1', namespace: 'beta', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', controller: true } as never] },
    spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
    status: {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: 1Gi. ',
      containerStatuses: [
        {
          name: 'app',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 137, finishedAt: T as unknown as Date } },
        },
      ],
    },
  };

  it('detects an evicted pod once, with when and why, and names the starved resource', () => {
    const [f] = detect(evicted);
    expect(f).toMatchObject({ kind: 'Evicted', pod: 'web-1', occurrence: 1, at: Date.parse(T) });
    expect(detect({ ...evicted, status: { ...evicted.status, reason: 'DeadlineExceeded' } })).toEqual([]);
    const d = diagnoseEvicted(evicted, Date.parse(T));
    expect(d).toMatchObject({ kind: 'Evicted', node: 'node-1', resource: 'ephemeral-storage' });
    expect(JSON.stringify(diagnosisBlocks(d))).toContain('low on ephemeral-storage');
  });

  it('names a node incident by its cluster and condition, escapes the kubelet, and words its recovery', () => {
    const d: NodeDiagnosis = {
      kind: 'NodePressure',
      node: 'node-1',
      condition: 'DiskPressure',
      status: 'True',
      message: '<!channel> disk *full*',
      at: Date.parse(T),
      affected: [{ env: 'beta', workloads: [{ kind: 'Deployment', name: 'web', pods: 2 }] }],
      suggestion: 'do <this>',
    };
    const head = { pod: 'node-1', node: 'node-1', at: d.at, diagnosis: d };
    const view = {
      id: 'x',
      kind: 'NodePressure' as const,
      env: 'beta',
      namespace: '',
      cluster: 'prod-eu',
      workload: { kind: 'Node', name: 'node-1' },
      count: 1,
      firstAt: d.at,
      lastAt: d.at,
      head,
      status: 'open' as const,
    };
    expect(headlineText(view)).toBe(':warning: DiskPressure · node node-1 · cluster prod-eu');
    const blocks = JSON.stringify(diagnosisBlocks(d));
    expect(blocks).toContain('&lt;!channel&gt; disk *full*');
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).toContain('`beta`: deployment web (2 pods)');
    expect(recoveredReply(view, 60_000).text).toContain('node `node-1` is no longer under DiskPressure (for 1m)');
  });

  it('golden: a NodeNotReady alert, an Evicted alert, a silence note from the command', async () => {
    const golden = (name: string, value: unknown) =>
      expect(JSON.stringify(value, null, 2) + '\n').toMatchFileSnapshot(`golden/${name}.json`);
    const at = Date.parse(T);
    const d: NodeDiagnosis = {
      kind: 'NodeNotReady',
      node: 'ip-10-0-1-12',
      condition: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      at,
      affected: [
        { env: 'beta', workloads: [{ kind: 'Deployment', name: 'web', pods: 2 }] },
        { env: 'prod', workloads: [{ kind: 'StatefulSet', name: 'db', pods: 1 }] },
      ],
      suggestion: 'The kubelet stopped reporting.',
    };
    const base = {
      id: '0123456789abcdef01234567',
      env: 'beta',
      cluster: 'default',
      count: 1,
      firstAt: at,
      lastAt: at,
      status: 'open' as const,
    };
    await golden(
      'alert-node-notready',
      headlineMessage(
        {
          ...base,
          kind: 'NodeNotReady',
          namespace: '',
          workload: { kind: 'Node', name: d.node },
          head: { pod: d.node, node: d.node, at, diagnosis: d },
        },
        at,
      ),
    );
    const e = diagnoseEvicted(evicted, at);
    await golden(
      'alert-evicted',
      headlineMessage(
        {
          ...base,
          kind: 'Evicted',
          namespace: 'beta',
          workload: { kind: 'Deployment', name: 'web' },
          head: { pod: e.pod, node: 'node-1', at, diagnosis: e },
        },
        at,
      ),
    );
    await golden(
      'alert-reply-silenced-command',
      silencedReply('2h', at + 7_200_000, 'U0ONCALL', { id: 'sil-0a1b2c3d', reason: 'known leak <#C1>' }),
    );
  });
});
