import { describe, expect, it } from 'vitest';
import { onlyCountChanged, renderKey, type IncidentState } from '../../src/alerts/incidents.js';
import { leaseAction } from '../../src/alerts/leader.js';
import {
  headlineMessage,
  occurrencesReply,
  recoveredReply,
  silencedReply,
  type IncidentView,
  type Occurrence,
} from '../../src/alerts/messages.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
/** Golden Block Kit: a change in what on-call sees shows up as a reviewed diff of these files. */
const golden = (name: string, value: unknown) => expect(JSON.stringify(value, null, 2) + '\n').toMatchFileSnapshot(`golden/${name}.json`);

const oom = (pod: string, restarts: number, at: number): Occurrence => ({
  pod,
  container: 'api',
  node: 'node-2',
  at,
  diagnosis: {
    kind: 'OOMKilled',
    pod,
    namespace: 'prod',
    node: 'node-2',
    at,
    container: 'api',
    limit: '256Mi',
    request: '128Mi',
    restarts,
    exitCode: 137,
    logTail: ['GET /report 200', 'building report for 12000 rows', 'allocated 250Mi'],
    suggestion:
      'The limit 256Mi is below what `api` reached. Raise it (e.g. to 384Mi) if this is its normal load, or find the leak if its memory grows over time.',
  },
});

const incident: IncidentView = {
  id: '0123456789abcdef01234567',
  kind: 'OOMKilled',
  env: 'prod',
  namespace: 'prod',
  cluster: 'default',
  workload: { kind: 'Deployment', name: 'api' },
  count: 1,
  firstAt: NOW - 60_000,
  lastAt: NOW - 60_000,
  head: oom('api-7d9f8c6b5d-x2k4p', 1, NOW - 60_000),
  status: 'open',
  restartIntent: 'intent123',
};

describe('what on-call sees (golden files)', () => {
  it('the OOMKilled alert: facts, log lines, suggestion, buttons', async () => {
    await golden('alert-oomkilled', headlineMessage(incident, NOW));
  });

  it('the alert after more kills, silenced; and after recovery (no Restart or Silence any more)', async () => {
    const more = {
      ...incident,
      count: 7,
      lastAt: NOW,
      last: oom('api-7d9f8c6b5d-q8w3e', 4, NOW),
      silence: { until: NOW + 3_600_000, by: 'U0ONCALL' },
    };
    await golden('alert-oomkilled-silenced', headlineMessage(more, NOW));
    const recovered = headlineMessage({ ...more, status: 'recovered', recoveredAt: NOW }, NOW);
    await golden('alert-oomkilled-recovered', recovered);
    expect(JSON.stringify(recovered)).not.toContain('Silence 1h');
    expect(JSON.stringify(recovered)).not.toContain('"Restart"');
  });

  it('the unschedulable alert', async () => {
    await golden(
      'alert-unschedulable',
      headlineMessage(
        {
          ...incident,
          kind: 'Unschedulable',
          restartIntent: 'intent456',
          head: {
            pod: 'hungry-5c7b9-abcde',
            at: NOW - 120_000,
            diagnosis: {
              kind: 'Unschedulable',
              pod: 'hungry-5c7b9-abcde',
              namespace: 'prod',
              at: NOW - 120_000,
              schedulerMessage:
                '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
              requests: { cpu: '500m', memory: '12Gi' },
              nodeCount: 3,
              fitsOn: [],
              roomiest: { name: 'node-3', freeCpu: '3500m', freeMemory: '7Gi', freePods: 105, lacks: ['5Gi memory'] },
              suggestion:
                'Lower its requests (500m CPU, 12Gi memory), add a node, or free capacity: the node with the most room, node-3, lacks 5Gi memory.',
            },
          },
        },
        NOW,
      ),
    );
  });

  it('thread replies: one more kill in full, a storm summarised, silence and recovery', async () => {
    await golden('alert-reply-one', occurrencesReply({ kind: 'OOMKilled', count: 2 }, [oom('api-7d9f8c6b5d-q8w3e', 2, NOW)]));
    const storm = Array.from({ length: 12 }, (_, i) => oom(`api-7d9f8c6b5d-p${i}`, 2, NOW + i));
    const summary = occurrencesReply({ kind: 'OOMKilled', count: 140 }, storm, 127);
    expect(summary.text).toContain('139 more occurrences (140 in total)');
    expect(summary.text).toContain('…and 129 more');
    expect(summary.text.split('\n').filter((l) => l.startsWith('•'))).toHaveLength(10);
    await golden('alert-reply-storm', summary);
    await golden('alert-reply-silenced', silencedReply('1h', NOW + 3_600_000, 'U0ONCALL'));
    await golden('alert-reply-recovered', recoveredReply(incident, 120_000));
  });
});

describe('headline updates', () => {
  const state = {
    ...incident,
    channel: 'C0ONCALL',
    gen: 1,
    threaded: 1,
    occBase: 0,
    recoveredNoted: false,
    recoverAfterMs: 1,
    updatedAt: 0,
  } as IncidentState;
  it('paces count-only changes but shows silence, recovery and the Restart button at once', () => {
    const shown = renderKey(state, NOW);
    expect(onlyCountChanged(shown, renderKey({ ...state, count: 9 }, NOW))).toBe(true);
    expect(onlyCountChanged(shown, renderKey({ ...state, count: 9, status: 'recovered' }, NOW))).toBe(false);
    expect(onlyCountChanged(shown, renderKey({ ...state, silence: { until: NOW + 1, by: 'U1' } }, NOW))).toBe(false);
    // An expired silence is no longer shown.
    expect(renderKey({ ...state, silence: { until: NOW - 1, by: 'U1' } }, NOW)).toBe(shown);
  });
});

describe('leaseAction', () => {
  const lease = { holder: 'b', renewTime: NOW - 5_000, durationMs: 15_000 };
  it('creates a missing lease, renews its own, follows a live one until it expires, then takes it over', () => {
    expect(leaseAction(undefined, 'a', NOW)).toEqual({ action: 'create' });
    expect(leaseAction({ ...lease, holder: 'a' }, 'a', NOW)).toEqual({ action: 'renew' });
    expect(leaseAction(lease, 'a', NOW)).toEqual({ action: 'follow', expiresAt: NOW + 10_000 });
    expect(leaseAction(lease, 'a', NOW + 10_000)).toEqual({ action: 'takeover' });
    // Released (no holder): taken at once.
    expect(leaseAction({ durationMs: 1_000, renewTime: NOW }, 'a', NOW)).toEqual({ action: 'takeover' });
  });
});
