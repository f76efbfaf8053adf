/** `history`: a Deployment's revisions from its ReplicaSets, and who made each one from the audit log. */
import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { StoredAuditEntry } from '../../src/audit/index.js';
import { attributeRevisions, auditedJobs as jobsOf } from '../../src/audit/revisions.js';
import { revisionsOf } from '../../src/kube/history.js';
import { loadVerbs } from '../../src/command/registry.js';
import { historyView } from '../../src/slack/views/history.js';

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
