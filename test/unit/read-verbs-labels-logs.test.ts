/** Pure rules of the read verbs: label keys, values and selectors (`label`, the selector of `nodes`) and which logs `logs` reads. */
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { labelKeyProblem, labelSelectorProblem, labelValueProblem, parseLabelChanges } from '../../src/kube/labels.js';
import { labelLogLines, selectLogTargets, splitLogLines, MAX_LINE_LENGTH, MAX_LOG_PODS } from '../../src/kube/logs.js';
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

it('keeps ChatOpsError the only error users see from these modules', () => {
  expect(() => selectLogTargets('a', 'b', [], { previous: false })).toThrow(ChatOpsError);
});
