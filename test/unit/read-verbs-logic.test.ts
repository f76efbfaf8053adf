import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { StoredAuditEntry } from '../../src/audit/index.js';
import { labelKeyProblem, labelSelectorProblem, labelValueProblem, parseLabelChanges } from '../../src/kube/labels.js';
import { labelLogLines, selectLogTargets, splitLogLines, MAX_LINE_LENGTH, MAX_LOG_PODS } from '../../src/kube/logs.js';
import { attributeRevisions, auditedJobs as jobsOf } from '../../src/audit/revisions.js';
import { revisionsOf } from '../../src/kube/history.js';
import { loadVerbs } from '../../src/command/registry.js';
import { clusterCapacity } from '../../src/kube/capacity.js';
import { keyLabels, nodesView, podsView } from '../../src/slack/views/capacity.js';
import { historyView } from '../../src/slack/views/history.js';
import { jobsView } from '../../src/slack/views/jobs.js';
import { codeSections } from '../../src/slack/code-sections.js';
import { ChatOpsError } from '../../src/errors/index.js';

describe('label keys, values and selectors, by Kubernetes rules', () => {
  it('accepts prefixed and plain keys and refuses bad ones with the reason', () => {
    expect(labelKeyProblem('pool')).toBeUndefined();
    expect(labelKeyProblem('example.com/pool_a.b-c')).toBeUndefined();
    expect(labelKeyProblem('a'.repeat(63))).toBeUndefined();
    expect(labelKeyProblem('a'.repeat(64))).toMatch(/at most 63/);
    expect(labelKeyProblem('Example.com/pool')).toMatch(/DNS subdomain/);
    expect(labelKeyProblem(`${'a'.repeat(254)}/x`)).toMatch(/at most 253/);
    expect(labelKeyProblem('/pool')).toMatch(/prefix before "\/" is empty/);
    expect(labelKeyProblem('pool-')).toMatch(/starting and ending/);
    expect(labelKeyProblem('a/b/c')).toMatch(/name must be/);
  });

  it('accepts empty values and refuses long or odd ones', () => {
    expect(labelValueProblem('')).toBeUndefined();
    expect(labelValueProblem('v1.2_3-x')).toBeUndefined();
    expect(labelValueProblem('x'.repeat(64))).toMatch(/at most 63/);
    expect(labelValueProblem('a b')).toMatch(/letters, digits/);
    expect(labelValueProblem('$(reboot)')).toMatch(/letters, digits/);
  });

  it('reads key=value and key- and refuses managed labels, repeats and nonsense', () => {
    expect(parseLabelChanges(['pool=batch', 'gpu-', 'team='])).toEqual({
      changes: [
        { key: 'pool', op: 'set', value: 'batch' },
        { key: 'gpu', op: 'remove' },
        { key: 'team', op: 'set', value: '' },
      ],
      problems: [],
    });
    const bad = parseLabelChanges(['pool', 'kubernetes.io/hostname=x', 'a=1', 'a-', 'b=c=d']);
    expect(bad.changes).toEqual([{ key: 'a', op: 'set', value: '1' }]);
    expect(bad.problems).toEqual([
      expect.stringMatching(/`pool` is neither `key=value` nor `key-`/),
      expect.stringMatching(/set by the kubelet or the cloud provider/),
      expect.stringMatching(/`a` is given twice/),
      expect.stringMatching(/label value `c=d`/),
    ]);
  });

  it('checks selectors the way the API server parses them', () => {
    for (const ok of ['pool=gpu', 'pool==gpu,zone!=a', 'gpu', '!gpu', 'zone in (a, b)', 'zone notin (a),pool', 'example.com/team=x']) {
      expect(labelSelectorProblem(ok), ok).toBeUndefined();
    }
    expect(labelSelectorProblem('pool=gpu,')).toMatch(/stray comma/);
    expect(labelSelectorProblem('zone in (a')).toMatch(/unbalanced/);
    expect(labelSelectorProblem('zone in ()')).toMatch(/needs at least one value/);
    expect(labelSelectorProblem('pool=a b')).toMatch(/cannot read/);
    expect(labelSelectorProblem('pool=$(id)')).toMatch(/label value/);
    expect(labelSelectorProblem('x'.repeat(300))).toMatch(/at most 256/);
  });
});

const logPod = (name: string, over: { containers?: string[]; init?: string[]; restarts?: number } = {}): V1Pod => ({
  metadata: { name },
  spec: {
    containers: (over.containers ?? ['app']).map((c) => ({ name: c })),
    ...(over.init ? { initContainers: over.init.map((c) => ({ name: c })) } : {}),
  },
  status: {
    containerStatuses: (over.containers ?? ['app']).map((c) => ({
      name: c,
      image: 'x',
      imageID: '',
      ready: true,
      restartCount: over.restarts ?? 0,
      ...(over.restarts ? { lastState: { terminated: { exitCode: 1 } } } : {}),
    })),
  },
});

describe('which logs to read', () => {
  it('reads every container of every pod, sorted by pod', () => {
    const { targets } = selectLogTargets('myapp', 'beta', [logPod('b'), logPod('a', { containers: ['app', 'proxy'] })], {
      previous: false,
    });
    expect(targets).toEqual([
      { pod: 'a', container: 'app' },
      { pod: 'a', container: 'proxy' },
      { pod: 'b', container: 'app' },
    ]);
  });

  it("checks that --pod is one of the app's pods and --container one of its containers", () => {
    expect(() => selectLogTargets('myapp', 'beta', [logPod('a')], { previous: false, pod: 'other-pod' })).toThrow(
      /`other-pod` is not a pod of myapp in namespace beta. Its pods: `a`/,
    );
    expect(() => selectLogTargets('myapp', 'beta', [logPod('a', { init: ['migrate'] })], { previous: false, container: 'nope' })).toThrow(
      /no container `nope`; its containers: `app`, `migrate`/,
    );
    expect(
      selectLogTargets('myapp', 'beta', [logPod('a', { init: ['migrate'] })], { previous: false, container: 'migrate' }).targets,
    ).toEqual([{ pod: 'a', container: 'migrate' }]);
  });

  it('says plainly when there are no pods', () => {
    expect(() => selectLogTargets('myapp', 'beta', [], { previous: false })).toThrow(
      /No pods of myapp in namespace beta — has it been deployed\?/,
    );
  });

  it('skips --previous for containers that never restarted, without asking the API', () => {
    const { targets } = selectLogTargets('myapp', 'beta', [logPod('a'), logPod('b', { restarts: 2 })], { previous: true });
    expect(targets).toEqual([
      { pod: 'a', container: 'app', skip: 'no previous container for pod a: it has not restarted' },
      { pod: 'b', container: 'app' },
    ]);
  });

  it(`reads at most ${MAX_LOG_PODS} pods and says how many were left out`, () => {
    const pods = Array.from({ length: MAX_LOG_PODS + 3 }, (_, i) => logPod(`p-${String(i).padStart(2, '0')}`));
    const { targets, omittedPods } = selectLogTargets('myapp', 'beta', pods, { previous: false });
    expect(targets).toHaveLength(MAX_LOG_PODS);
    expect(omittedPods).toBe(3);
  });

  it('labels each line by pod and container, and keeps log text as it is', () => {
    const lines = labelLogLines([
      { pod: 'a', container: 'app', lines: ['hello', '<!channel> `rm -rf /` $(id)'] },
      { pod: 'b', container: 'app', lines: [], note: 'container "app" in pod "b" is waiting to start: ContainerCreating' },
    ]);
    expect(lines).toEqual([
      '[a/app] hello',
      '[a/app] <!channel> `rm -rf /` $(id)',
      '[b/app] (container "app" in pod "b" is waiting to start: ContainerCreating)',
    ]);
  });

  it('splits text into its last lines and cuts overlong ones', () => {
    expect(splitLogLines('a\nb\nc\n', 2)).toEqual(['b', 'c']);
    expect(splitLogLines('', 5)).toEqual([]);
    expect(splitLogLines('x'.repeat(MAX_LINE_LENGTH + 10), 1)[0]).toMatch(/… \[line cut at 2000 characters\]$/);
  });
});

const uid = 'dep-uid';
const deployment: V1Deployment = {
  metadata: { name: 'myapp', uid, annotations: { 'deployment.kubernetes.io/revision': '3' } },
  spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'myapp' } }, template: {} },
};
const rs = (
  name: string,
  revision: number,
  created: string,
  image: string,
  annotations: Record<string, string> = {},
  owner = uid,
): V1ReplicaSet => ({
  metadata: {
    name,
    creationTimestamp: new Date(created),
    annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'myapp', uid: owner, controller: true }],
  },
  spec: { replicas: revision === 3 ? 2 : 0, selector: {}, template: { spec: { containers: [{ name: 'myapp', image }] } } },
  status: { replicas: 0, readyReplicas: revision === 3 ? 2 : 0 },
});
const verbs = await loadVerbs();
const auditedJobs = (entries: StoredAuditEntry[]) => jobsOf(entries, verbs);

const entry = (
  at: string,
  outcome: StoredAuditEntry['outcome'],
  ref: string,
  userId: string,
  verb = 'deploy',
  channelId = 'C0OPS',
): StoredAuditEntry => ({
  id: `${Date.parse(at)}-0`,
  at: Date.parse(at),
  outcome,
  verb,
  command: `${verb} myapp beta`,
  userId,
  channelId,
  env: 'beta',
  app: 'myapp',
  ref,
});
const ref = (n: number) => `cmd-${String(n).repeat(24)}`;

describe('rollout history and who made each revision', () => {
  const sets = [
    rs('myapp-1', 1, '2024-05-01T10:00:00Z', 'img:1.0.0'),
    rs('myapp-3', 3, '2024-05-01T12:00:05Z', 'img:1.2.0'),
    rs('myapp-2', 2, '2024-05-01T11:00:00Z', 'img:1.1.0'),
    rs('someone-else', 9, '2024-05-01T12:00:00Z', 'img:x', {}, 'other-uid'),
  ];

  it("lists the Deployment's own ReplicaSets, newest revision first, with the current one marked", () => {
    const revisions = revisionsOf(deployment, sets);
    expect(revisions.map((r) => [r.revision, r.images[0], r.current])).toEqual([
      [3, 'img:1.2.0', true],
      [2, 'img:1.1.0', false],
      [1, 'img:1.0.0', false],
    ]);
  });

  it('attributes each revision to the job that ran when its ReplicaSet appeared, even jobs that waited', () => {
    const jobs = auditedJobs([
      entry('2024-05-01T10:00:00.300Z', 'accepted', ref(1), 'U0ALICE'),
      entry('2024-05-01T10:00:08Z', 'succeeded', ref(1), 'U0ALICE'),
      entry('2024-05-01T10:59:59.900Z', 'accepted', ref(2), 'U0BOB', 'restart', 'C0DEVTEAM'),
      entry('2024-05-01T11:00:20Z', 'succeeded', ref(2), 'U0BOB', 'restart', 'C0DEVTEAM'),
      // accepted while job 2 ran, waited for the lock, then made revision 3 later — must not take revision 2
      entry('2024-05-01T11:00:00.100Z', 'accepted', ref(3), 'U0CAROL'),
      entry('2024-05-01T12:00:30Z', 'failed', `${ref(3)}-approved`, 'U0CAROL'),
      // a scale in the same second makes no revision
      entry('2024-05-01T12:00:04Z', 'accepted', ref(4), 'U0DAN', 'scale'),
      entry('2024-05-01T12:00:05Z', 'succeeded', ref(4), 'U0DAN', 'scale'),
    ]);
    const revisions = attributeRevisions(revisionsOf(deployment, sets), jobs);
    expect(revisions.map((r) => [r.revision, r.by?.userId, r.by?.verb, r.by?.channelId])).toEqual([
      [3, 'U0CAROL', 'deploy', 'C0OPS'],
      [2, 'U0BOB', 'restart', 'C0DEVTEAM'],
      [1, 'U0ALICE', 'deploy', 'C0OPS'],
    ]);
  });

  it('never gives a revision to a job that was cancelled before it ran', () => {
    const jobs = auditedJobs([
      entry('2024-05-01T12:00:01Z', 'accepted', ref(5), 'U0EVE'),
      entry('2024-05-01T12:00:02Z', 'cancelled', ref(5), 'U0EVE'),
      entry('2024-05-01T12:00:03Z', 'accepted', ref(3), 'U0CAROL'),
    ]);
    const [current] = attributeRevisions(revisionsOf(deployment, sets), jobs);
    expect(current?.by).toMatchObject({ userId: 'U0CAROL', source: 'audit' });
  });

  it('gives two quick jobs in the same second one revision each, in order', () => {
    const quick = [rs('q-1', 1, '2024-05-01T10:00:00Z', 'img:1'), rs('q-2', 2, '2024-05-01T10:00:00Z', 'img:2')];
    const jobs = auditedJobs([
      entry('2024-05-01T10:00:00.100Z', 'accepted', ref(1), 'U0ALICE'),
      entry('2024-05-01T10:00:00.400Z', 'succeeded', ref(1), 'U0ALICE'),
      entry('2024-05-01T10:00:00.500Z', 'accepted', ref(2), 'U0BOB'),
      entry('2024-05-01T10:00:00.900Z', 'succeeded', ref(2), 'U0BOB'),
    ]);
    const revisions = attributeRevisions(
      revisionsOf(
        { ...deployment, metadata: { ...deployment.metadata, annotations: { 'deployment.kubernetes.io/revision': '2' } } },
        quick,
      ),
      jobs,
    );
    expect(revisions.map((r) => [r.revision, r.by?.userId])).toEqual([
      [2, 'U0BOB'],
      [1, 'U0ALICE'],
    ]);
  });

  it('uses the request id the controller copied onto the ReplicaSet, and the annotations when our records are gone', () => {
    const annotated = [
      rs('myapp-1', 1, '2024-05-01T10:00:00Z', 'img:1.0.0', {
        'k8s-chatops.io/deployed-by': 'alice',
        'k8s-chatops.io/deployed-from-channel': 'C0OPS',
        'k8s-chatops.io/request-id': '1'.repeat(24),
      }),
      rs('myapp-2', 2, '2024-05-01T11:00:00Z', 'img:1.1.0', {
        'k8s-chatops.io/deployed-by': 'bob',
        'k8s-chatops.io/deployed-from-channel': 'C0DEV',
        'k8s-chatops.io/request-id': '2'.repeat(24),
      }),
      // a restart after bob's deploy: the controller copied bob's annotations again — stale, so not bob's
      rs('myapp-3', 3, '2024-05-01T12:00:00Z', 'img:1.1.0', {
        'k8s-chatops.io/deployed-by': 'bob',
        'k8s-chatops.io/deployed-from-channel': 'C0DEV',
        'k8s-chatops.io/request-id': '2'.repeat(24),
      }),
    ];
    const jobs = auditedJobs([
      entry('2024-05-01T10:00:00.200Z', 'accepted', ref(1), 'U0ALICE'),
      entry('2024-05-01T10:00:09Z', 'succeeded', ref(1), 'U0ALICE'),
    ]);
    const revisions = attributeRevisions(revisionsOf(deployment, annotated), jobs);
    expect(revisions.map((r) => [r.revision, r.by?.source, r.by?.userId ?? r.by?.userName])).toEqual([
      [3, undefined, undefined],
      [2, undefined, undefined],
      [1, 'audit', 'U0ALICE'],
    ]);
    const onlyAnnotations = attributeRevisions(revisionsOf(deployment, annotated.slice(0, 2)), []);
    expect(onlyAnnotations.map((r) => [r.revision, r.by?.source, r.by?.userName, r.by?.channelId])).toEqual([
      [2, 'annotations', 'bob', 'C0DEV'],
      [1, 'annotations', 'alice', 'C0OPS'],
    ]);
  });

  it('shows revisions with image, time, who and channel, and how to go back', () => {
    const jobs = auditedJobs([
      entry('2024-05-01T12:00:04Z', 'accepted', ref(3), 'U0CAROL'),
      entry('2024-05-01T12:00:30Z', 'succeeded', ref(3), 'U0CAROL'),
    ]);
    const view = historyView({
      app: 'myapp',
      env: 'beta',
      namespace: 'beta',
      revisions: attributeRevisions(revisionsOf(deployment, sets), jobs),
      now: Date.parse('2024-05-01T13:00:05Z'),
    });
    const shown = JSON.stringify(view.blocks);
    expect(view.text).toBe('myapp in beta: 3 revisions, current 3 (img:1.2.0)');
    expect(shown).toContain(
      '*3* :arrow_left: *current* · `img:1.2.0` · <!date^1714564805^{date_short_pretty} {time_secs}|2024-05-01 12:00:05 UTC> (1h ago) · deploy by <@U0CAROL> in <#C0OPS> · 2/2 ready',
    );
    expect(shown).toContain('*1* · `img:1.0.0`');
    expect(shown).toContain('who: unknown');
    expect(shown).toContain('/k8s rollback myapp beta 2');
  });
});

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

it('keeps ChatOpsError the only error users see from these modules', () => {
  expect(() => selectLogTargets('a', 'b', [], { previous: false })).toThrow(ChatOpsError);
});
