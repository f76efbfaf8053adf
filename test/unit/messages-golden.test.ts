import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { diagnosisMessage, jobFailed, jobStarted, jobSucceeded } from '../../src/slack/views/job-thread.js';
import { approvalDecidedMessage, approvalRequestMessage } from '../../src/approvals/messages.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { deploymentStatusView } from '../../src/slack/views/status.js';
import { config } from './fixtures.js';

/** Golden Block Kit: a change in what users see shows up as a reviewed diff of these files. */
const golden = (name: string, value: unknown) => expect(JSON.stringify(value, null, 2) + '\n').toMatchFileSnapshot(`golden/${name}.json`);

const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('what users see (golden files)', () => {
  it('deploy thread: started, done, failed with diagnosis', async () => {
    await golden('job-started', jobStarted('deploy myapp 1.4.2 → beta', 'U0DEV'));
    await golden('job-succeeded', jobSucceeded('deploy myapp 1.4.2 → beta', 'U0DEV', 42_000, '2 of 2 replicas updated and available'));
    await golden('job-failed', jobFailed('deploy myapp 9.9.9 → beta', 'U0DEV', 600_000, 'container myapp is in CrashLoopBackOff'));
    await golden(
      'diagnosis-crashloop',
      diagnosisMessage(
        {
          problem: {
            kind: 'CrashLoopBackOff',
            pod: 'myapp-7d9f-abcde',
            container: 'myapp',
            summary: 'container myapp is in CrashLoopBackOff — last exit code 1 (Error), restarted 4 times',
            occurrence: 4,
            at: NaN,
            exitCode: 1,
            restarts: 4,
          },
          logTail: ['loading config', 'FATAL: DATABASE_URL is not set'],
        },
        'deployment "myapp" exceeded its progress deadline',
      ),
    );
    await golden(
      'diagnosis-unschedulable',
      diagnosisMessage(
        {
          problem: {
            kind: 'Unschedulable',
            pod: 'hungry-1',
            summary: 'pod hungry-1 cannot be scheduled',
            occurrence: 1,
            at: NaN,
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        },
        'x',
      ),
    );
  });

  it('approval request, pending and decided', async () => {
    const request: ApprovalRequest = {
      id: 'apr-abc123abc123',
      state: 'pending',
      verb: 'deploy',
      args: { app: 'myapp', env: 'prod', version: '1.4.2' },
      description: 'deploy myapp 1.4.2 → prod',
      env: 'prod',
      app: 'myapp',
      request: { requestId: 'abc', text: 'deploy myapp prod 1.4.2', userId: 'U0DEV', channelId: 'C0OPS', receivedAt: NOW },
      changes: ['image registry.example.com/team/myapp:1.4.1 → registry.example.com/team/myapp:1.4.2', 'replicas 4 → 4'],
      minApprovals: 1,
      approvals: [],
      createdAt: NOW,
      expiresAt: NOW + 30 * 60_000,
      messageTs: '1700000000.000100',
    };
    await golden('approval-request', approvalRequestMessage(request, config.environments.prod!.approval!));
    await golden(
      'approval-approved',
      approvalDecidedMessage({ ...request, state: 'approved', approvals: ['U0OPSLEAD'], decidedBy: 'U0OPSLEAD', decidedAt: NOW + 60_000 }),
    );
    await golden(
      'approval-expired',
      approvalDecidedMessage({ ...request, state: 'expired', decidedBy: 'system', decidedAt: NOW + 30 * 60_000 }),
    );
  });

  it('status of an app', async () => {
    const deployment: V1Deployment = {
      metadata: {
        name: 'myapp',
        namespace: 'beta',
        generation: 3,
        annotations: { 'deployment.kubernetes.io/revision': '3', 'k8s-chatops.io/deployed-by': 'dev' },
      },
      spec: {
        replicas: 2,
        selector: {},
        template: { spec: { containers: [{ name: 'myapp', image: 'registry.example.com/team/myapp:1.4.2' }] } },
      },
      status: {
        observedGeneration: 3,
        replicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
        readyReplicas: 2,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
      },
    };
    const pod = (name: string, node: string, restarts: number): V1Pod => ({
      metadata: { name, creationTimestamp: new Date(NOW - 3_600_000) },
      spec: { containers: [], nodeName: node },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'myapp', image: 'i', imageID: '', ready: true, restartCount: restarts, state: { running: {} } }],
      },
    });
    await golden(
      'status-app',
      deploymentStatusView('beta', deployment, [pod('myapp-7d9f-abcde', 'node-1', 0), pod('myapp-7d9f-fghij', 'node-2', 1)], NOW),
    );
  });
});
