/**
 * Shared by the hostile-text-* tests: outside strings built from the pieces attackers use,
 * and every renderer fed the same outside string everywhere outside text enters.
 */
import fc from 'fast-check';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import {
  headlineMessage,
  logsMessage,
  occurrencesReply,
  recoveredReply,
  silencedReply,
  type IncidentView,
  type Occurrence,
} from '../../src/alerts/messages.js';
import { silencesView } from '../../src/slack/views/silences.js';
import { conditionLine } from '../../src/slack/views/capacity.js';
import type { Diagnosis } from '../../src/alerts/diagnose.js';
import { approvalRequestMessage, approvalDecidedMessage } from '../../src/approvals/messages.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { codeBlock, escapeMrkdwn, section, truncate, type Block, type SlackMessage } from '../../src/slack/blocks.js';
import { codeSections } from '../../src/slack/code-sections.js';
import { diagnosisMessage, jobFailed, refusedPodsMessage } from '../../src/slack/views/job-thread.js';
import { deploymentStatusView, environmentStatusView } from '../../src/slack/views/status.js';
import { podsView } from '../../src/slack/views/capacity.js';
import { jobsView } from '../../src/slack/views/jobs.js';
import { plainTextFallback } from '../../src/slack/fallback.js';

export const NOW = Date.parse('2026-11-22T10:00:00Z');

/** Pieces attackers use; strings are built from them (and from plain letters). */
const PIECES = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0EVIL>',
  '<#C0EVIL>',
  '<https://evil.example/login|https://sso.corp.example/login>',
  '<',
  '>',
  '&',
  '&lt;',
  '!',
  '@',
  '#',
  '|',
  'http://x',
  'a',
  ' ',
  '\n',
  '\u202e',
  '\u2066',
  '\u200b',
  '\ufeff',
  '```',
  '`',
  '*',
  '_',
  '~',
];
export const hostile = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }).map((a) => a.join(''));

export const oomDiagnosis = (s: string, logTail: string[]): Diagnosis =>
  ({
    kind: 'OOMKilled',
    pod: `api-${s}`,
    namespace: 'prod',
    node: `node-${s}`,
    at: NOW,
    container: `c-${s}`,
    limit: '256Mi',
    request: '128Mi',
    restarts: 3,
    exitCode: 137,
    logTail,
    suggestion: `Raise the limit of ${s}`,
  }) as Diagnosis;
const pullDiagnosis = (s: string): Diagnosis =>
  ({
    kind: 'ImagePullBackOff',
    pod: `p-${s}`,
    namespace: 'prod',
    at: NOW,
    container: s,
    image: s,
    reason: 'ErrImagePull',
    error: s,
    suggestion: s,
  }) as Diagnosis;
export const occurrence = (d: Diagnosis): Occurrence => ({
  pod: 'pod' in d ? d.pod : d.node,
  container: 'container' in d ? (d as { container: string }).container : 'c',
  node: 'n',
  at: NOW,
  diagnosis: d,
});
export const incident = (d: Diagnosis, name: string): IncidentView => ({
  id: '0123456789abcdef01234567',
  kind: d.kind as IncidentView['kind'],
  env: 'prod',
  namespace: 'prod',
  cluster: 'default',
  workload: { kind: 'Deployment', name },
  count: 3,
  firstAt: NOW - 60_000,
  lastAt: NOW,
  head: occurrence(d),
  last: occurrence(d),
  status: 'open',
  restartIntent: 'intent123',
});
export const pod = (name: string, image: string, message?: string): V1Pod => ({
  metadata: { name, namespace: 'beta', creationTimestamp: new Date(NOW - 3_600_000), labels: { 'app.kubernetes.io/name': 'web' } },
  spec: { nodeName: 'node-1', containers: [{ name, image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name,
        image,
        imageID: '',
        ready: false,
        restartCount: 5,
        state: { waiting: { reason: 'CrashLoopBackOff', ...(message ? { message } : {}) } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      },
    ],
  },
});
export const deployment = (name: string, image: string, message: string): V1Deployment => ({
  metadata: {
    name,
    namespace: 'beta',
    generation: 2,
    annotations: { 'deployment.kubernetes.io/revision': '3', 'k8s-chatops.io/deployed-by': name },
    creationTimestamp: new Date(NOW - 86_400_000),
  },
  spec: { replicas: 2, selector: {}, template: { spec: { containers: [{ name: 'app', image }] } } },
  status: {
    observedGeneration: 2,
    replicas: 2,
    updatedReplicas: 2,
    availableReplicas: 1,
    readyReplicas: 1,
    conditions: [{ type: 'Available', status: 'False', reason: name, message }],
  },
});
export const approval = (s: string): ApprovalRequest =>
  ({
    id: 'apr-abc123abc123',
    state: 'pending',
    verb: 'deploy',
    args: { app: 'myapp', env: 'prod', version: s },
    description: `deploy myapp ${s} → prod`,
    env: 'prod',
    app: 'myapp',
    request: { requestId: 'abc', text: `deploy myapp prod ${s}`, userId: 'U0DEV', channelId: 'C0OPS', receivedAt: NOW },
    changes: [`image ${s} → ${s}`],
    minApprovals: 1,
    approvals: [],
    createdAt: NOW,
    expiresAt: NOW + 1_800_000,
  }) as ApprovalRequest;

const nodeDiagnosis = (s: string): Diagnosis => ({
  kind: 'NodePressure',
  node: s,
  condition: 'MemoryPressure',
  status: 'True',
  reason: s,
  message: s,
  at: NOW,
  affected: [{ env: s, workloads: [{ kind: 'Deployment', name: s, pods: 2 }] }],
  suggestion: s,
});
const evictedDiagnosis = (s: string): Diagnosis => ({
  kind: 'Evicted',
  pod: s,
  namespace: 'beta',
  node: s,
  at: NOW,
  message: s,
  resource: s,
  suggestion: s,
});
const nodeIncident = (s: string): IncidentView => ({
  ...incident(nodeDiagnosis(s), s),
  kind: 'NodePressure',
  namespace: '',
  cluster: s,
  workload: { kind: 'Node', name: s },
});
const asMessage = (text: string): SlackMessage => ({ text: truncate(text, 3_000), blocks: [section(text)] });

/** Every renderer, fed the same outside string everywhere outside text enters. */
export function renderAll(s: string): Record<string, SlackMessage> {
  const rule = { approvers: ['S0OPS'], minApprovals: 1, allowSelfApproval: false, timeout: '30m' } as never;
  return {
    alertOom: headlineMessage(incident(oomDiagnosis(s, [s, `line ${s}`]), s), NOW),
    alertPull: headlineMessage(incident(pullDiagnosis(s), s), NOW),
    alertNode: headlineMessage(nodeIncident(s), NOW),
    alertNodeRecovered: recoveredReply(nodeIncident(s), 60_000),
    alertEvicted: headlineMessage(incident(evictedDiagnosis(s), s), NOW),
    silenced: silencedReply(s, NOW + 1, 'U0ONCALL', { id: 'sil-0a1b2c3d', reason: s }),
    silences: silencesView([
      { id: 'sil-0a1b2c3d', target: s, node: false, env: s, kind: 'OOMKilled', until: NOW, by: 'U0ONCALL', reason: s },
    ]),
    nodeConditions: asMessage(
      conditionLine({
        name: s,
        conditions: [
          { type: 'Ready', status: s, reason: s, message: s, since: NOW },
          { type: 'DiskPressure', status: 'True', message: s, since: NOW },
        ],
      }),
    ),
    alertOccurrences: occurrencesReply({ kind: 'OOMKilled', count: 9 }, [occurrence(oomDiagnosis(s, [s])), occurrence(pullDiagnosis(s))]),
    alertOneOccurrence: occurrencesReply({ kind: 'OOMKilled', count: 2 }, [occurrence(oomDiagnosis(s, [s]))]),
    alertLogs: logsMessage(s, s, [s, s], true),
    threadDiagnosis: diagnosisMessage(
      { problem: { kind: 'ImagePullBackOff', pod: s, container: s, summary: s, image: s, message: s }, logTail: [s] } as never,
      s,
    ),
    threadCrash: diagnosisMessage(
      { problem: { kind: 'CrashLoopBackOff', pod: s, container: s, summary: s, restarts: 3 }, logTail: [s, s] } as never,
      s,
    ),
    threadRefused: refusedPodsMessage(s, 'beta'),
    jobFailedReason: jobFailed('deploy web 1.0 → beta', 'U0DEV', 1_000, s),
    statusApp: deploymentStatusView('beta', deployment(s, s, s), [pod(s, s, s)], NOW),
    statusEnv: environmentStatusView(
      'beta',
      'beta',
      [
        { app: s, kind: 'StatefulSet', workload: deployment(s, s, s), image: s },
        // A blue/green app: the colour that serves and the one kept, and the chat-set resources mark.
        {
          app: s,
          kind: 'Deployment',
          workload: deployment(s, s, s),
          image: s,
          serving: { color: s, kept: { name: s, until: NOW } },
          overridden: true,
        },
        {
          app: s,
          kind: 'Deployment',
          workload: deployment(s, s, s),
          image: s,
          serving: { color: s, kept: { name: s, color: s, until: NOW } },
        },
      ],
      [pod(s, s, s)],
      NOW,
    ),
    pods: podsView({ env: 'beta', namespace: 'beta', pods: [pod(s, s, s)], nodes: new Map(), now: NOW }),
    jobs: jobsView(
      [{ id: 'cmd-1', what: s, state: 'running', userId: 'U0DEV', channelId: 'C0OPS', queuedAt: NOW - 5_000 }],
      { allChannels: true, channelId: 'C0OPS' },
      NOW,
    ),
    approval: approvalRequestMessage(approval(s), rule),
    approvalDecided: approvalDecidedMessage({
      ...approval(s),
      state: 'approved',
      approvals: ['U0LEAD'],
      decidedBy: 'U0LEAD',
      decidedAt: NOW,
    } as ApprovalRequest),
    code: { text: 'logs', blocks: codeSections([s, s], 5).blocks },
    codeBlock: { text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: codeBlock(s) } }] },
    fallback: {
      text: plainTextFallback({ text: s, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(s) } }] as Block[] }),
    },
  };
}
