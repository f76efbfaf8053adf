/** The views of the read verbs: `pods` and `nodes`, long text split into blocks, and `jobs`. */
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { clusterCapacity } from '../../src/kube/capacity.js';
import { keyLabels, nodesView, podsView } from '../../src/slack/views/capacity.js';
import { jobsView } from '../../src/slack/views/jobs.js';
import { codeSections } from '../../src/slack/code-sections.js';

describe('pods and nodes views', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const nodeObj = (name: string, labels: Record<string, string>, taints?: Array<{ key: string; value?: string; effect: string }>) => ({
    metadata: { name, labels },
    spec: taints ? { taints } : {},
    status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const p = (name: string, node: string | undefined, cpu: string, memory: string, phase = 'Running'): V1Pod => ({
    metadata: { name, creationTimestamp: new Date(now - 300_000) },
    spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: true, restartCount: 1 }],
    },
  });

  it('groups pods by node with status, restarts, requests and what they take of the node', () => {
    const pods = [
      p('web-b', 'node-1', '100m', '128Mi'),
      p('web-a', 'node-1', '100m', '128Mi'),
      p('web-c', 'node-2', '1', '1Gi'),
      p('web-d', undefined, '1', '1Gi', 'Pending'),
    ];
    const caps = clusterCapacity([nodeObj('node-1', {}), nodeObj('node-2', {})], pods);
    const view = podsView({ env: 'beta', namespace: 'beta', app: 'web', pods, nodes: new Map(caps.map((c) => [c.name, c])), now });
    const shown = JSON.stringify(view.blocks);
    expect(view.text).toBe('4 pods of web in beta on 2 node(s): 3 Running, 1 Pending');
    expect(shown).toContain('*node-1* · 2 pods requesting cpu 200m, memory 256Mi — 5% of its cpu, 3% of its memory');
    expect(shown).toMatch(/web-a +Running +1 +100m \/ 128Mi +5m\\nweb-b/);
    expect(shown.indexOf('node-2')).toBeLessThan(shown.indexOf('(not scheduled)'));
  });

  it("stays within Slack's block limit for a big environment and says what it left out", () => {
    const pods = Array.from({ length: 600 }, (_, i) =>
      p(`app-${String(i).padStart(3, '0')}-${'x'.repeat(20)}`, `node-${i % 60}`, '100m', '128Mi'),
    );
    const view = podsView({ env: 'beta', namespace: 'beta', pods, now });
    expect(view.blocks!.length).toBeLessThanOrEqual(50);
    for (const b of view.blocks!) if (b.type === 'section') expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(3_000);
    const note = JSON.stringify(view.blocks!.at(-1));
    expect(note).toMatch(/\*\d+ more pod\(s\) not shown\* — narrow with `\/k8s pods beta &lt;app&gt;`/);
    const shownPods = JSON.stringify(view.blocks).match(/app-\d{3}-x/g)!.length;
    expect(Number(/(\d+) more pod/.exec(note)![1]) + shownPods).toBe(600);
  });

  it('tells node rows apart by key labels and lists taints', () => {
    expect(
      keyLabels({
        'kubernetes.io/hostname': 'n',
        'topology.kubernetes.io/zone': 'zone-a',
        'node.kubernetes.io/instance-type': 'm5.large',
        'node-role.kubernetes.io/worker': '',
        pool: 'gpu',
      }),
    ).toEqual(['zone-a', 'm5.large', 'role=worker', 'pool=gpu']);
    const caps = clusterCapacity(
      [nodeObj('node-1', { pool: 'gpu' }, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]), nodeObj('node-2', {})],
      [p('a', 'node-1', '3500m', '1Gi')],
    );
    const view = nodesView([{ cluster: 'default', nodes: caps }]);
    const shown = JSON.stringify(view.blocks);
    expect(view.text).toBe('2 nodes, most requested node-1 (cpu 87%, memory 12%)');
    expect(shown).toMatch(/node-1 +Ready +3500m\/4 \(87%\) +1Gi\/8Gi \(12%\) +1\/110 +pool=gpu/);
    expect(shown).toContain('`dedicated=gpu:NoSchedule`');
  });

  it('shows the clusters it could read when one cannot be read', () => {
    const view = nodesView([
      { cluster: 'a (beta)', nodes: clusterCapacity([nodeObj('n', {})], []) },
      { cluster: 'b (prod)', nodes: [], error: 'Cannot reach the Kubernetes API' },
    ]);
    expect(view.text).toBe('a (beta): 1 node, most requested n (cpu 0%, memory 0%); b (prod): unavailable');
    expect(JSON.stringify(view.blocks)).toContain(':warning: Cannot reach the Kubernetes API');
  });
});

describe('long text in Slack blocks', () => {
  it('splits on line boundaries under the section limit, escapes it, and stops at the block budget', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} <@U0X> ${'x'.repeat(50)}`);
    const { blocks, shown } = codeSections(lines, 2);
    expect(blocks).toHaveLength(2);
    expect(shown).toBeLessThan(200);
    for (const b of blocks) expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(3_000);
    expect(JSON.stringify(blocks)).toContain('&lt;@U0X&gt;');
    expect(JSON.stringify(blocks)).not.toContain('<@U0X>');
  });
});

describe('jobs view', () => {
  it('shows running work first, then waiting, with who, where, when and the id to cancel', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    const view = jobsView(
      [
        {
          id: 'cmd-b',
          what: 'deploy myapp 2 → beta',
          state: 'waiting for lock',
          userId: 'U0B',
          channelId: 'C0DEV',
          queuedAt: now - 30_000,
        },
        {
          id: 'cmd-a',
          what: 'deploy myapp 1 → beta',
          state: 'running',
          userId: 'U0A',
          channelId: 'C0OPS',
          queuedAt: now - 60_000,
          startedAt: now - 50_000,
        },
        {
          id: 'apr-x',
          what: 'scale myapp → prod',
          state: 'waiting for approval',
          userId: 'U0C',
          channelId: 'C0OPS',
          queuedAt: now - 10_000,
          detail: '0 of 1 approvals, expires in 29m',
        },
      ],
      { allChannels: true, channelId: 'C0OPS' },
      now,
    );
    const shown = (view.blocks ?? []).map((b) => JSON.stringify(b)).join('\n');
    expect(view.text).toBe('3 pieces of work in every channel: 1 running, 1 waiting for approval, 1 waiting for lock');
    expect(shown.indexOf('cmd-a')).toBeLessThan(shown.indexOf('apr-x'));
    expect(shown.indexOf('apr-x')).toBeLessThan(shown.indexOf('cmd-b'));
    expect(shown).toContain('*deploy myapp 1 → beta* — running for 50s · <@U0A> in <#C0OPS> · asked 1m ago · `cmd-a`');
    expect(shown).toContain('0 of 1 approvals, expires in 29m');
    expect(jobsView([], { allChannels: false, channelId: 'C0DEV' }, now).text).toBe('No queued, waiting or running work from <#C0DEV>.');
  });
});
