import { describe, expect, it } from 'vitest';
import type { V1ControllerRevision, V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import { ChatOpsError } from '../../src/errors/index.js';
import { planRollback, previousRevision, revisions, rollbackPatch, sameTemplate } from '../../src/kube/rollback.js';
import { restartPatch, restartTimestamp } from '../../src/kube/restart.js';
import { controllerRevisionHistory, controllerRevisionPatch, controllerRevisions } from '../../src/kube/workloads/controller-revisions.js';

const UID = 'deploy-uid';

const template = (image: string, hash?: string): V1PodTemplateSpec => ({
  metadata: {
    labels: { app: 'myapp', ...(hash ? { 'pod-template-hash': hash } : {}) },
    annotations: { 'k8s-chatops.io/config-checksum': 'abc' },
  },
  spec: { containers: [{ name: 'myapp', image }] },
});

const replicaSet = (revision: number | undefined, image: string, owner = UID): V1ReplicaSet => ({
  metadata: {
    name: `myapp-${image.split(':')[1]}`,
    annotations: revision === undefined ? {} : { 'deployment.kubernetes.io/revision': String(revision) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'myapp', uid: owner, controller: true }],
  },
  spec: { selector: {}, template: template(image, `h${revision ?? 0}`) },
});

const deployment = (image: string, opts: { paused?: boolean; annotations?: Record<string, string> | null } = {}): V1Deployment => ({
  metadata: {
    name: 'myapp',
    namespace: 'beta',
    uid: UID,
    ...(opts.annotations === null
      ? {}
      : { annotations: opts.annotations ?? { 'deployment.kubernetes.io/revision': '3', 'kubernetes.io/change-cause': 'deploy 3' } }),
  },
  spec: { selector: { matchLabels: { app: 'myapp' } }, template: template(image), ...(opts.paused ? { paused: true } : {}) },
});

const HISTORY = [replicaSet(1, 'repo:1.0'), replicaSet(3, 'repo:3.0'), replicaSet(2, 'repo:2.0'), replicaSet(undefined, 'repo:x')];

function refusal(fn: () => unknown): ChatOpsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ChatOpsError);
    return err as ChatOpsError;
  }
  throw new Error('expected a refusal');
}

describe('choosing the revision to roll back to, as kubectl rollout undo', () => {
  it('orders revisions newest first and skips ReplicaSets without one', () => {
    expect(revisions(HISTORY).map((r) => r.revision)).toEqual([3, 2, 1]);
  });

  it('goes to the second highest revision when none is given', () => {
    const plan = planRollback(deployment('repo:3.0'), HISTORY);
    expect(plan).toMatchObject({ kind: 'rollback', from: { revision: 3 }, to: { revision: 2, images: ['repo:2.0'] } });
    expect(previousRevision(HISTORY)?.revision).toBe(2);
  });

  it('goes to the revision given', () => {
    expect(planRollback(deployment('repo:3.0'), HISTORY, 1)).toMatchObject({
      kind: 'rollback',
      to: { revision: 1, object: 'myapp-1.0' },
    });
  });

  it('drops the pod-template-hash label from the target template', () => {
    const plan = planRollback(deployment('repo:3.0'), HISTORY);
    expect(plan.to.template.metadata?.labels).toEqual({ app: 'myapp' });
    expect(plan.to.template.metadata?.annotations).toEqual({ 'k8s-chatops.io/config-checksum': 'abc' });
  });

  it('skips when the Deployment already runs the target template (hash label ignored)', () => {
    expect(planRollback(deployment('repo:3.0'), HISTORY, 3)).toMatchObject({ kind: 'current', to: { revision: 3 } });
    expect(sameTemplate(template('repo:1', 'aaa'), template('repo:1'))).toBe(true);
    expect(sameTemplate(template('repo:1'), template('repo:2'))).toBe(false);
  });

  it('treats null and absent fields alike, as the API server does', () => {
    const withNull = { ...template('repo:1'), metadata: { ...template('repo:1').metadata, creationTimestamp: null as unknown as Date } };
    expect(sameTemplate(withNull, template('repo:1'))).toBe(true);
  });

  it('refuses a paused Deployment', () => {
    expect(refusal(() => planRollback(deployment('repo:3.0', { paused: true }), HISTORY)).userMessage).toMatch(
      /deployment myapp in namespace beta is paused, so a rollback would change nothing.*kubectl rollout resume deployment\/myapp -n beta/,
    );
  });

  it('refuses when there is only one revision, or none', () => {
    expect(refusal(() => planRollback(deployment('repo:1.0'), [replicaSet(1, 'repo:1.0')])).userMessage).toBe(
      'Nothing to roll back to: deployment myapp in namespace beta has only one revision, 1 (repo:1.0).',
    );
    expect(refusal(() => planRollback(deployment('repo:1.0'), [])).userMessage).toMatch(/has no rollout history/);
  });

  it('lists the revisions when the one given does not exist', () => {
    const err = refusal(() => planRollback(deployment('repo:3.0'), HISTORY, 7));
    expect(err.kind).toBe('not_found');
    expect(err.userMessage).toMatch(/has no revision 7; its revisions are 3 \(repo:3\.0\), 2 \(repo:2\.0\), 1 \(repo:1\.0\)/);
  });
});

describe('the rollback patch', () => {
  const annotations = { 'k8s-chatops.io/request-id': 'r1', 'kubernetes.io/change-cause': 'rollback to 2' };

  it('replaces /spec/template and sets only our annotations, keeping the others', () => {
    const plan = planRollback(deployment('repo:3.0'), HISTORY);
    expect(rollbackPatch(deployment('repo:3.0'), plan.to, annotations)).toEqual([
      { op: 'replace', path: '/spec/template', value: plan.to.template },
      { op: 'add', path: '/metadata/annotations/k8s-chatops.io~1request-id', value: 'r1' },
      { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'rollback to 2' },
    ]);
  });

  it('adds the annotations map when the Deployment has none', () => {
    const bare = deployment('repo:3.0', { annotations: null });
    const plan = planRollback(bare, HISTORY);
    expect(rollbackPatch(bare, plan.to, annotations)[1]).toEqual({ op: 'add', path: '/metadata/annotations', value: annotations });
  });
});

describe('restart, as kubectl rollout restart', () => {
  it('stamps an RFC 3339 time to the second, so two restarts in one second are one', () => {
    expect(restartTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z');
    expect(restartTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 1))).toBe(restartTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 999)));
  });

  it('patches only the pod template annotation', () => {
    expect(restartPatch('2026-01-02T03:04:05Z')).toEqual({
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05Z' } } } },
    });
  });
});

describe('ControllerRevisions (StatefulSet, DaemonSet), as kubectl rollout undo reads them', () => {
  const sts: V1StatefulSet = {
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'beta', uid: 'sts-uid' },
    spec: { selector: { matchLabels: { app: 'db' } }, serviceName: 'db', template: template('db:2') },
  };
  const revision = (n: number, image: string): V1ControllerRevision => ({
    metadata: { name: `db-${image.replace(/\W/g, '')}`, creationTimestamp: new Date(Date.UTC(2026, 0, n)) },
    revision: n,
    data: {
      spec: { template: { ...template(image), metadata: { creationTimestamp: null, ...template(image).metadata }, $patch: 'replace' } },
    },
  });
  const revs = [revision(1, 'db:1'), revision(2, 'db:2')];
  const pod = (rev: string, ready: boolean): V1Pod => ({
    metadata: { name: `p-${rev}`, labels: { 'controller-revision-hash': rev } },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  it('restores the template without the $patch directive, newest first', () => {
    expect(controllerRevisions(revs).map((r) => [r.revision, r.images])).toEqual([
      [2, ['db:2']],
      [1, ['db:1']],
    ]);
    expect(controllerRevisions(revs)[0]!.template).not.toHaveProperty('$patch');
  });

  it('marks the revision the workload runs now and counts the pods running each', () => {
    const rows = controllerRevisionHistory(sts, revs, [pod('db-db2', true), pod('db-db2', false), pod('db-db1', true)]);
    expect(rows.map((r) => [r.revision, r.current, r.ready, r.desired])).toEqual([
      [2, true, 1, 2],
      [1, false, 1, 1],
    ]);
  });

  it('patches with the revision data (the whole template replaced) and our annotations', () => {
    const [, previous] = controllerRevisions(revs);
    expect(controllerRevisionPatch(previous!, { 'k8s-chatops.io/request-id': 'r1' })).toEqual({
      metadata: { annotations: { 'k8s-chatops.io/request-id': 'r1' } },
      spec: { template: { ...previous!.template, $patch: 'replace' } },
    });
  });
});
