import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import {
  raisedMemoryLimit,
  requestThatFits,
  roomiestFor,
  roundCpuDown,
  roundMemoryDown,
  roundMemoryUp,
  scarceResources,
} from '../../src/alerts/fix-math.js';
import { proposeFix } from '../../src/alerts/fixes.js';
import { diagnoseOom, type OomDiagnosis, type UnschedulableDiagnosis } from '../../src/alerts/diagnose.js';
import type { NodeCapacity } from '../../src/kube/capacity.js';
import { headlineMessage, occurrencesReply, type IncidentView } from '../../src/alerts/messages.js';
import type { SlackMessage } from '../../src/slack/blocks.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

describe('rounding to a quantity a person would pick', () => {
  it('rounds up in 64Mi steps below 1Gi, 128Mi up to 4Gi, 256Mi above', () => {
    expect(roundMemoryUp(384 * Mi)).toBe(384 * Mi);
    expect(roundMemoryUp(300 * Mi)).toBe(320 * Mi);
    expect(roundMemoryUp(1 * Mi)).toBe(64 * Mi);
    expect(roundMemoryUp(1.1 * Gi)).toBe(1152 * Mi);
    expect(roundMemoryUp(3 * Gi + 1)).toBe(3 * Gi + 128 * Mi);
    expect(roundMemoryUp(5 * Gi + 1)).toBe(5 * Gi + 256 * Mi);
    expect(roundMemoryUp(0)).toBe(0);
  });

  it('rounds down in 16Mi steps below 256Mi, then as up; CPU in 10m steps, 50m above a core', () => {
    expect(roundMemoryDown(100 * Mi)).toBe(96 * Mi);
    expect(roundMemoryDown(15 * Mi)).toBe(0);
    expect(roundMemoryDown(7.9 * Gi)).toBe(7 * Gi + 768 * Mi);
    expect(roundMemoryDown(-5)).toBe(0);
    expect(roundCpuDown(999)).toBe(990);
    expect(roundCpuDown(1234)).toBe(1200);
    expect(roundCpuDown(9)).toBe(0);
  });
});

describe('the raised memory limit', () => {
  it('is 1.5 × the larger of the observed peak and the limit, rounded up', () => {
    expect(raisedMemoryLimit({ limitBytes: 256 * Mi })).toEqual({ kind: 'raise', bytes: 384 * Mi, capped: false, from: 'limit' });
    expect(raisedMemoryLimit({ limitBytes: 256 * Mi, peakBytes: 300 * Mi })).toEqual({
      kind: 'raise',
      bytes: 512 * Mi,
      capped: false,
      from: 'peak',
    });
    expect(raisedMemoryLimit({ limitBytes: 1 * Gi })).toEqual({ kind: 'raise', bytes: 1536 * Mi, capped: false, from: 'limit' });
    expect(raisedMemoryLimit({ peakBytes: 100 * Mi })).toEqual({ kind: 'raise', bytes: 192 * Mi, capped: false, from: 'peak' });
    expect(raisedMemoryLimit({})).toEqual({ kind: 'unknown' });
  });

  it('never goes above the bound, and is refused when the limit is already there', () => {
    expect(raisedMemoryLimit({ limitBytes: 1536 * Mi, maxBytes: 2 * Gi })).toEqual({
      kind: 'raise',
      bytes: 2 * Gi,
      capped: 'bound',
      from: 'limit',
    });
    expect(raisedMemoryLimit({ limitBytes: 2 * Gi, maxBytes: 2 * Gi })).toEqual({ kind: 'at-bound', boundBytes: 2 * Gi });
    expect(raisedMemoryLimit({ limitBytes: 4 * Gi, maxBytes: 2 * Gi })).toEqual({ kind: 'at-bound', boundBytes: 2 * Gi });
    expect(raisedMemoryLimit({ limitBytes: 256 * Mi, maxBytes: 2 * Gi })).toMatchObject({ bytes: 384 * Mi, capped: false });
  });

  it('never goes above the largest node (rounded down), the lower of it and the bound winning', () => {
    // 1.5 × 6Gi = 9Gi: more than an 8Gi node has.
    expect(raisedMemoryLimit({ limitBytes: 6 * Gi, nodeBytes: 8 * Gi })).toEqual({
      kind: 'raise',
      bytes: 8 * Gi,
      capped: 'node',
      from: 'limit',
    });
    // A real node's allocatable is no round number: 7.9Gi → 7936Mi.
    expect(raisedMemoryLimit({ limitBytes: 6 * Gi, nodeBytes: 7.9 * Gi })).toMatchObject({ bytes: 7936 * Mi, capped: 'node' });
    expect(raisedMemoryLimit({ limitBytes: 6 * Gi, maxBytes: 64 * Gi, nodeBytes: 8 * Gi })).toMatchObject({
      bytes: 8 * Gi,
      capped: 'node',
    });
    expect(raisedMemoryLimit({ limitBytes: 6 * Gi, maxBytes: 7 * Gi, nodeBytes: 8 * Gi })).toMatchObject({
      bytes: 7 * Gi,
      capped: 'bound',
    });
    expect(raisedMemoryLimit({ limitBytes: 1 * Gi, nodeBytes: 8 * Gi })).toMatchObject({ bytes: 1536 * Mi, capped: false });
  });

  it('offers no raise when the limit is already at or above what the largest node has', () => {
    expect(raisedMemoryLimit({ limitBytes: 8 * Gi, nodeBytes: 8 * Gi })).toEqual({ kind: 'at-node', nodeBytes: 8 * Gi, over: false });
    // Below the node, but no sensible step up fits: 7.9Gi rounds down to 7936Mi.
    expect(raisedMemoryLimit({ limitBytes: 8000 * Mi, nodeBytes: 7.9 * Gi })).toEqual({
      kind: 'at-node',
      nodeBytes: 7.9 * Gi,
      over: false,
    });
    expect(raisedMemoryLimit({ limitBytes: 10 * Gi, nodeBytes: 8 * Gi })).toEqual({ kind: 'at-node', nodeBytes: 8 * Gi, over: true });
    expect(raisedMemoryLimit({ limitBytes: 10 * Gi, maxBytes: 4 * Gi, nodeBytes: 8 * Gi })).toMatchObject({ kind: 'at-node', over: true });
    expect(raisedMemoryLimit({ limitBytes: 4 * Gi, maxBytes: 4 * Gi, nodeBytes: 8 * Gi })).toEqual({
      kind: 'at-bound',
      boundBytes: 4 * Gi,
    });
  });
});

const node = (name: string, freeMemGi: number, freeCpu: number, o: Partial<NodeCapacity> = {}): NodeCapacity => ({
  name,
  labels: {},
  taints: [],
  ready: true,
  unschedulable: false,
  allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi, pods: 110 },
  requested: { cpuMillis: 4000 - freeCpu, memoryBytes: 8 * Gi - freeMemGi * Gi },
  podCount: 1,
  free: { cpuMillis: freeCpu, memoryBytes: freeMemGi * Gi, pods: 10 },
  percent: { cpu: 0, memory: 0, pods: 0 },
  ...o,
});

describe('the request that fits', () => {
  it("is the node's free room minus the other containers' requests", () => {
    expect(requestThatFits({ current: 6 * Gi, podTotal: 7 * Gi, room: 5 * Gi })).toBe(4 * Gi);
    expect(requestThatFits({ current: 1 * Gi, podTotal: 7 * Gi, room: 5 * Gi })).toBe(-1 * Gi);
  });

  it('reads the short resources from the scheduler and picks the node needing the smallest cut', () => {
    expect(scarceResources('0/3 nodes are available: 1 Insufficient cpu, 3 Insufficient memory.')).toEqual(['memory', 'cpu']);
    expect(scarceResources("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")).toEqual([]);
    const nodes = [node('a', 2, 3000), node('b', 5, 100), node('c', 7, 3000, { unschedulable: true })];
    expect(roomiestFor(nodes, { cpuMillis: 500, memoryBytes: 10 * Gi }, ['memory'])?.name).toBe('b');
    expect(roomiestFor(nodes, { cpuMillis: 500, memoryBytes: 10 * Gi }, ['memory', 'cpu'])?.name).toBe('a');
    expect(roomiestFor([node('x', 1, 1, { ready: false })], { cpuMillis: 1, memoryBytes: 1 }, ['memory'])).toBeUndefined();
  });
});

const config = parseConfig(
  `
environments:
  beta: { namespace: beta, limits: { maxMemory: 4Gi } }
  prod: { namespace: prod }
apps:
  web: { image: r/web, workload: { kind: Deployment, name: web-main, container: web } }
  api: { image: r/api }
channels: {}
alerts: []
`,
  'test.yaml',
);
const oom = (o: Partial<OomDiagnosis> = {}): OomDiagnosis => ({
  kind: 'OOMKilled',
  pod: 'web-main-1',
  namespace: 'beta',
  at: 0,
  suggestion: '',
  container: 'web',
  limit: '512Mi',
  restarts: 1,
  ...o,
});
const webInBeta = { kind: 'OOMKilled' as const, env: 'beta', workload: { kind: 'Deployment', name: 'web-main' } };

describe('the fix an alert offers', () => {
  it('raises the limit of the app container, by the observed peak when it is higher', () => {
    expect(proposeFix(config, webInBeta, oom())?.button).toEqual({
      text: 'Raise memory limit to 768Mi',
      command: 'resources web beta --memory-limit 768Mi',
    });
    expect(proposeFix(config, webInBeta, oom(), { peakBytes: 700 * Mi })?.button?.command).toBe('resources web beta --memory-limit 1152Mi');
    expect(proposeFix(config, webInBeta, oom(), { peakBytes: 700 * Mi })?.note).toContain('1.5 × the observed peak 700Mi, rounded up');
  });

  it('offers nothing for a sidecar, a workload no app owns, or without a limit or a peak', () => {
    expect(proposeFix(config, webInBeta, oom({ container: 'proxy' }))).toBeUndefined();
    expect(proposeFix(config, { ...webInBeta, workload: { kind: 'Deployment', name: 'other' } }, oom())).toBeUndefined();
    expect(proposeFix(config, webInBeta, oom({ limit: undefined } as never))).toBeUndefined();
  });

  it('caps at the bound and says when the limit is already there', () => {
    expect(proposeFix(config, webInBeta, oom({ limit: '3Gi' }))?.button?.command).toBe('resources web beta --memory-limit 4Gi');
    const at = proposeFix(config, webInBeta, oom({ limit: '4Gi' }));
    expect(at?.button).toBeUndefined();
    expect(at?.note).toContain("already at `beta`'s bound (`limits.maxMemory: 4Gi`)");
  });

  const webInProd = { ...webInBeta, env: 'prod' };
  const largestNode = { name: 'node-big', memoryBytes: 8 * Gi };
  it('caps at what the largest node has (at a node’s free memory when the pods ask for their limit) and says so; offers none when even the limit is above it, or the nodes could not be read', () => {
    const capped = proposeFix(config, webInProd, oom({ limit: '6Gi' }), { largestNode });
    expect(capped?.button).toEqual({ text: 'Raise memory limit to 8Gi', command: 'resources web prod --memory-limit 8Gi' });
    expect(capped?.note).toContain(
      "(capped at what the largest node of `prod`'s cluster, `node-big` (8Gi allocatable) has; 1.5 × the limit 6Gi would fit no node)",
    );
    const over = proposeFix(config, webInProd, oom({ limit: '10Gi' }), { largestNode, peakBytes: 9 * Gi });
    expect(over?.button).toBeUndefined();
    expect(over?.note).toContain("The memory limit 10Gi is already more than what the largest node of `prod`'s cluster, `node-big`");
    expect(over?.note).toContain('so no raise is offered');
    // The pods ask for their limit (no memory request): what counts is a node's free memory, not its size.
    const follows = proposeFix(config, webInProd, oom({ limit: '4Gi' }), {
      largestNode,
      requestFollows: { node: 'node-2', freeBytes: 5 * Gi },
    });
    expect(follows?.button?.command).toBe('resources web prod --memory-limit 5Gi');
    expect(follows?.note).toContain(
      '(capped at the most free memory on a node (`node-2`: 5Gi free): `web` sets no memory request, so its pods ask for their limit, and 1.5 × the limit 4Gi would leave them Pending)',
    );
    const noRoom = proposeFix(config, webInProd, oom({ limit: '4Gi' }), {
      largestNode,
      requestFollows: { node: 'node-2', freeBytes: 3 * Gi },
    });
    expect(noRoom?.button).toBeUndefined();
    expect(noRoom?.note).toContain('The memory limit 4Gi is already more than the most free memory on a node (`node-2`: 3Gi free)');
    expect(noRoom?.note).toContain('a higher one would leave them Pending, so no raise is offered');
    const unread = proposeFix(config, webInProd, oom({ limit: '6Gi' }), { largestNode: 'unread' });
    expect(unread?.button).toBeUndefined();
    expect(unread?.note).toContain("the nodes of `prod`'s cluster could not be read");
  });

  const unschedulable = (fit: UnschedulableDiagnosis['fit'], requests = { cpu: '600m', memory: '7Gi' }): UnschedulableDiagnosis => ({
    kind: 'Unschedulable',
    pod: 'api-1',
    namespace: 'prod',
    at: 0,
    suggestion: '',
    requests,
    nodeCount: 3,
    fitsOn: [],
    ...(fit ? { fit } : {}),
  });
  const apiInProd = { kind: 'Unschedulable' as const, env: 'prod', workload: { kind: 'Deployment', name: 'api' } };
  const containers = [
    { name: 'api', cpuMillis: 500, memoryBytes: 6 * Gi },
    { name: 'proxy', cpuMillis: 100, memoryBytes: 1 * Gi },
  ];

  it("lowers the app container's request to what fits the roomiest node, rounded down", () => {
    const fix = proposeFix(
      config,
      apiInProd,
      unschedulable({ scarce: ['memory'], node: 'node-2', room: { cpuMillis: 2000, memoryBytes: 5.5 * Gi }, containers }),
    );
    expect(fix?.button).toEqual({ text: 'Lower memory request to 4608Mi', command: 'resources api prod --memory-request 4608Mi' });
    expect(fix?.note).toContain('It would fit `node-2`, the node with the most room, with the memory request at 4608Mi (now 6Gi)');
    const both = proposeFix(
      config,
      apiInProd,
      unschedulable({ scarce: ['memory', 'cpu'], node: 'n', room: { cpuMillis: 455, memoryBytes: 5 * Gi }, containers }),
    );
    expect(both?.button).toEqual({ text: 'Lower requests to fit', command: 'resources api prod --memory-request 4Gi --cpu-request 350m' });
  });

  it('says no node can fit it when the other containers alone take the room, or no node is usable', () => {
    const none = proposeFix(
      config,
      apiInProd,
      unschedulable({ scarce: ['memory'], node: 'node-1', room: { cpuMillis: 0, memoryBytes: 1 * Gi }, containers }),
    );
    expect(none?.button).toBeUndefined();
    expect(none?.note).toMatch(
      /No node can fit it by lowering the memory request of `api`: the node with the most room, `node-1`, has 1Gi memory free/,
    );
    expect(
      proposeFix(config, apiInProd, unschedulable({ scarce: ['memory'], room: { cpuMillis: 0, memoryBytes: 0 }, containers }))?.note,
    ).toMatch(/No node can fit it/);
  });

  it('offers nothing when it already fits or the scheduler names no short resource', () => {
    expect(
      proposeFix(
        config,
        apiInProd,
        unschedulable({ scarce: ['memory'], node: 'n', room: { cpuMillis: 0, memoryBytes: 8 * Gi }, containers }),
      ),
    ).toBeUndefined();
    expect(proposeFix(config, apiInProd, unschedulable(undefined))).toBeUndefined();
  });
});

describe('the fix on the alert message', () => {
  const NOW = Date.parse('2026-11-22T10:00:00Z');
  const view: IncidentView = {
    id: '0123456789abcdef01234567',
    kind: 'OOMKilled',
    env: 'beta',
    namespace: 'beta',
    cluster: 'default',
    workload: { kind: 'Deployment', name: 'web-main' },
    count: 1,
    firstAt: NOW - 60_000,
    lastAt: NOW - 60_000,
    head: { pod: 'web-main-1', container: 'web', at: NOW - 60_000, diagnosis: oom() },
    status: 'open',
    restartIntent: 'intent-restart',
    fix: { note: proposeFix(config, webInBeta, oom())!.note, button: { text: 'Raise memory limit to 768Mi', intent: 'intent-fix' } },
  };
  const elements = (m: SlackMessage) => (m.blocks ?? []).flatMap((b: any) => (b.type === 'actions' ? b.elements : []));

  it('shows the note and a button with its own action_id next to Restart (golden)', async () => {
    const message = headlineMessage(view, NOW);
    const ids = elements(message).map((e: any) => e.action_id);
    expect(ids).toEqual(['chatops_alert_logs', 'chatops_run', 'chatops_run:fix', 'chatops_alert_silence:1h', 'chatops_alert_silence:24h']);
    expect(elements(message).find((e: any) => e.action_id === 'chatops_run:fix')).toMatchObject({ value: 'intent-fix', style: 'primary' });
    await expect(JSON.stringify(message, null, 2) + '\n').toMatchFileSnapshot('golden/alert-oomkilled-fix.json');
  });

  it('has the hint defer to the fix line: it names no raise above what the capped button offers', () => {
    const killed = diagnoseOom(
      {
        metadata: { name: 'web-main-1', namespace: 'prod' },
        spec: { containers: [{ name: 'web', resources: { limits: { memory: '10Gi' } } }] },
      },
      { kind: 'OOMKilled', pod: 'web-main-1', container: 'web', at: 0, occurrence: 2, exitCode: 137 },
    );
    // Alone, the hint's example is 1.5 × the limit: more than a 12Gi node has.
    expect(killed.suggestion).toContain('Raise it (e.g. to 15Gi)');
    const fix = proposeFix(config, { ...webInBeta, env: 'prod' }, killed, { largestNode: { name: 'node-big', memoryBytes: 12 * Gi } })!;
    expect(fix.button?.text).toBe('Raise memory limit to 12Gi');
    const shown = (m: SlackMessage) => JSON.stringify(m.blocks);
    const offered = {
      ...view,
      env: 'prod',
      head: { ...view.head, diagnosis: killed },
      fix: { note: fix.note, button: { text: fix.button!.text, intent: 'i' } },
    };
    const message = shown(headlineMessage(offered, NOW));
    expect(message).not.toContain('15Gi');
    expect(message).toContain(
      'Raise it if this is its normal load (the fix on this alert names a value that fits the bounds and the nodes',
    );
    expect(message).toContain('capped at what the largest node of `prod`');
    // The thread's "Again" reply says the same while the fix is there, and the example without one.
    const again = occurrencesReply(offered, [{ pod: 'web-main-2', container: 'web', at: 0, diagnosis: killed }]);
    expect(shown(again)).not.toContain('15Gi');
    expect(shown(occurrencesReply({ kind: 'OOMKilled', count: 2 }, [{ pod: 'web-main-2', at: 0, diagnosis: killed }]))).toContain(
      'e.g. to 15Gi',
    );
    // No button (the nodes could not be read): the hint names no value the line says is not offered.
    const none = proposeFix(config, { ...webInBeta, env: 'prod' }, killed, { largestNode: 'unread' })!;
    const unread = shown(headlineMessage({ ...offered, fix: { note: none.note } }, NOW));
    expect(unread).not.toContain('15Gi');
    expect(unread).toContain('No raise is offered for now');
  });

  it('drops both once the incident recovered', () => {
    const message = headlineMessage({ ...view, status: 'recovered', recoveredAt: NOW }, NOW);
    expect(JSON.stringify(message)).not.toContain('Raise memory limit');
    expect(elements(message).map((e: any) => e.action_id)).toEqual(['chatops_alert_logs']);
  });
});
