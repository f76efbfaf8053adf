import { describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { clusterCapacity } from '../../src/kube/capacity.js';
import type { Revision } from '../../src/kube/history.js';
import { nodesView, podsView } from '../../src/slack/views/capacity.js';
import { historyView } from '../../src/slack/views/history.js';
import { jobsView } from '../../src/slack/views/jobs.js';

/** Golden Block Kit: a change in what users see shows up as a reviewed diff of these files. */
const golden = (name: string, value: unknown) => expect(JSON.stringify(value, null, 2) + '\n').toMatchFileSnapshot(`golden/${name}.json`);

const NOW = Date.parse('2026-11-22T10:00:00Z');
const ago = (ms: number) => new Date(NOW - ms);

const node = (
  name: string,
  zone: string,
  labels: Record<string, string> = {},
  taints?: V1Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never,
): V1Node => ({
  metadata: {
    name,
    labels: {
      'kubernetes.io/hostname': name,
      'topology.kubernetes.io/zone': zone,
      'node.kubernetes.io/instance-type': 'm6i.xlarge',
      ...labels,
    },
  },
  spec: taints ? { taints } : {},
  status: { allocatable: { cpu: '3920m', memory: '15896Mi', pods: '58' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (
  name: string,
  nodeName: string | undefined,
  cpu: string,
  memory: string,
  over: { namespace?: string; phase?: string; restarts?: number } = {},
): V1Pod => ({
  metadata: {
    name,
    namespace: over.namespace ?? 'beta',
    creationTimestamp: ago(3_600_000),
    labels: { 'app.kubernetes.io/name': name.split('-')[0]! },
  },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'app', resources: { requests: { cpu, memory } } }] },
  status: {
    phase: over.phase ?? 'Running',
    conditions: [
      { type: 'Ready', status: over.phase === 'Pending' ? 'False' : 'True' },
      ...(over.phase === 'Pending' ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] : []),
    ],
    containerStatuses: nodeName ? [{ name: 'app', image: 'x', imageID: '', ready: true, restartCount: over.restarts ?? 0 }] : [],
  },
});

const NODES = [
  node('ip-10-0-1-12', 'eu-west-1a'),
  node('ip-10-0-2-34', 'eu-west-1b', { pool: 'batch' }, [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]),
];
const PODS = [
  pod('web-7d9f-abcde', 'ip-10-0-1-12', '250m', '256Mi', { restarts: 2 }),
  pod('web-7d9f-fghij', 'ip-10-0-2-34', '250m', '256Mi'),
  pod('worker-5c4b-klmno', 'ip-10-0-2-34', '1', '2Gi'),
  pod('worker-5c4b-pqrst', undefined, '1', '2Gi', { phase: 'Pending' }),
  pod('coredns-1', 'ip-10-0-1-12', '100m', '70Mi', { namespace: 'kube-system' }),
];

describe('what users see of the read verbs (golden files)', () => {
  it('pods grouped by node, and nodes with requested vs allocatable', async () => {
    const caps = clusterCapacity(NODES, PODS);
    const betaPods = PODS.filter((p) => p.metadata?.namespace === 'beta');
    await golden(
      'read-pods',
      podsView({ env: 'beta', namespace: 'beta', pods: betaPods, nodes: new Map(caps.map((c) => [c.name, c])), now: NOW }),
    );
    await golden('read-nodes', nodesView([{ cluster: 'default (beta, prod)', nodes: caps }]));
  });

  it('history with who deployed what from where', async () => {
    const revisions: Revision[] = [
      {
        revision: 7,
        object: 'web-7d9f',
        images: ['registry.example.com/team/web:1.4.2'],
        createdAt: ago(3_600_000),
        current: true,
        desired: 2,
        ready: 2,
        formerRevisions: [],
        by: { source: 'audit', userId: 'U0DEV', channelId: 'C0DEVTEAM', verb: 'deploy', ref: 'cmd-1' },
      },
      {
        revision: 6,
        object: 'web-6c8e',
        images: ['registry.example.com/team/web:1.4.1'],
        createdAt: ago(86_400_000),
        current: false,
        desired: 0,
        ready: 0,
        formerRevisions: [4],
        by: { source: 'annotations', userName: 'alice', channelId: 'C0OPS' },
      },
      {
        revision: 5,
        object: 'web-5b7d',
        images: ['registry.example.com/team/web:1.4.0'],
        createdAt: ago(2 * 86_400_000),
        current: false,
        desired: 0,
        ready: 0,
        formerRevisions: [],
      },
    ];
    await golden('read-history', historyView({ app: 'web', env: 'beta', namespace: 'beta', revisions, now: NOW }));
  });

  it('jobs: running, waiting for approval and for the lock', async () => {
    await golden(
      'read-jobs',
      jobsView(
        [
          {
            id: 'cmd-0a1b2c3d4e5f60718293a4b5',
            what: 'deploy web 1.4.2 → beta',
            state: 'running',
            userId: 'U0DEV',
            channelId: 'C0DEVTEAM',
            queuedAt: NOW - 95_000,
            startedAt: NOW - 90_000,
          },
          {
            id: 'cmd-5f60718293a4b50a1b2c3d4e',
            what: 'restart web → beta',
            state: 'waiting for lock',
            userId: 'U0OPS',
            channelId: 'C0OPS',
            queuedAt: NOW - 30_000,
          },
          {
            id: 'apr-5f60718293a4b50a1b2c',
            what: 'deploy web 1.4.2 → prod',
            state: 'waiting for approval',
            userId: 'U0DEV',
            channelId: 'C0RELEASE',
            queuedAt: NOW - 600_000,
            detail: '0 of 1 approval, expires in 20m',
          },
        ],
        { allChannels: true, channelId: 'C0OPS' },
        NOW,
      ),
    );
  });
});
