/**
 * Every message kind stays within what Slack accepts even with extreme inputs
 * (issue 9 §1). Checked with the emulator's own Block Kit rules.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { headlineMessage, logsMessage, occurrencesReply } from '../../src/alerts/messages.js';
import { approvalRequestMessage } from '../../src/approvals/messages.js';
import type { SlackMessage } from '../../src/slack/blocks.js';
import { codeSections } from '../../src/slack/code-sections.js';
import { diagnosisMessage, jobFailed, jobStarted } from '../../src/slack/views/job-thread.js';
import { deploymentStatusView, environmentStatusView } from '../../src/slack/views/status.js';
import { podsView } from '../../src/slack/views/capacity.js';
import { jobsView } from '../../src/slack/views/jobs.js';
import { refuseMessage } from '../support/slack/block-kit-rules.js';
import { NOW, approval, deployment, hostile, incident, occurrence, oomDiagnosis, pod, renderAll } from './hostile-text-fixtures.js';

function acceptedBySlack(m: SlackMessage, kind = ''): void {
  expect(refuseMessage({ text: m.text, blocks: m.blocks }), kind).toBeUndefined();
}

describe('every message kind within Slack’s limits, with extreme inputs', () => {
  it('property: any outside string (up to 3,000 characters) renders messages Slack accepts', () => {
    const big = fc.tuple(hostile, fc.integer({ min: 1, max: 250 })).map(([s, n]) => s.repeat(n).slice(0, 3_000));
    fc.assert(
      fc.property(big, (s) => {
        for (const [kind, m] of Object.entries(renderAll(s))) acceptedBySlack(m, kind);
      }),
      { numRuns: 40 },
    );
  });

  it('500 pods, 2 kB log lines and long names stay within 50 blocks and the section limits', () => {
    const long = 'x'.repeat(253);
    const pods = Array.from({ length: 500 }, (_, i) =>
      pod(`${long.slice(0, 60)}-${i}`, `registry.example.com/${long}:${i}`, 'Back-off restarting failed container '.repeat(20)),
    );
    const line = '&<>'.repeat(700);
    const messages: SlackMessage[] = [
      deploymentStatusView('beta', deployment(long, long, line), pods, NOW),
      environmentStatusView(
        'beta',
        'beta',
        Array.from({ length: 500 }, (_, i) => ({
          app: `${long}-${i}`,
          kind: 'Deployment',
          workload: deployment(`${long}-${i}`, long, line),
          image: long,
        })),
        pods,
        NOW,
      ),
      podsView({ env: 'beta', namespace: 'beta', pods, nodes: new Map(), now: NOW }),
      headlineMessage(
        incident(
          oomDiagnosis(
            long,
            Array.from({ length: 50 }, () => line),
          ),
          long,
        ),
        NOW,
      ),
      logsMessage(
        long,
        long,
        Array.from({ length: 100 }, () => line),
        true,
      ),
      diagnosisMessage(
        {
          problem: { kind: 'CrashLoopBackOff', pod: long, container: long, summary: line, restarts: 3 },
          logTail: Array.from({ length: 50 }, () => line),
        } as never,
        line,
      ),
      occurrencesReply(
        { kind: 'OOMKilled', count: 1000 },
        Array.from({ length: 50 }, () => occurrence(oomDiagnosis(long, [line]))),
        950,
      ),
      approvalRequestMessage(approval(line), { approvers: ['S0OPS'], minApprovals: 1, allowSelfApproval: false } as never),
      jobsView(
        Array.from({ length: 200 }, (_, i) => ({
          id: `cmd-${i}`,
          what: line,
          state: 'running',
          userId: 'U0DEV',
          channelId: 'C0OPS',
          queuedAt: NOW - i,
        })),
        { allChannels: true, channelId: 'C0OPS' },
        NOW,
      ),
      {
        text: 'logs',
        blocks: codeSections(
          Array.from({ length: 500 }, () => line),
          45,
        ).blocks,
      },
      jobStarted(line, 'U0DEV'),
      jobFailed(line, 'U0DEV', 1_000, line),
    ];
    messages.forEach((m, i) => {
      expect(refuseMessage({ text: m.text, blocks: m.blocks }), `message ${i}`).toBeUndefined();
    });
  });
});
