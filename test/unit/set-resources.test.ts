import { describe, expect, it } from 'vitest';
import { largestAllocatable } from '../../src/kube/capacity.js';
import {
  ANNOTATION_RESOURCES,
  nodeFit,
  raisedValues,
  chatResources,
  describeResourceChange,
  mergeResources,
  requestAboveLimit,
  setResourcesPatch,
} from '../../src/kube/workloads/set-resources.js';

describe('resources of one container', () => {
  it('merges only the values a change names over the live ones', () => {
    expect(
      mergeResources({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }, { limits: { memory: '512Mi' } }),
    ).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    expect(mergeResources(undefined, { requests: { cpu: '1' } })).toEqual({ requests: { cpu: '1' } });
    expect(mergeResources(undefined, {})).toEqual({});
  });

  it('finds a request above its limit by value, not by spelling', () => {
    expect(requestAboveLimit({ requests: { memory: '1Gi' }, limits: { memory: '512Mi' } })).toBe(
      'memory request 1Gi is above its limit 512Mi',
    );
    expect(requestAboveLimit({ requests: { memory: '1024Mi' }, limits: { memory: '1Gi' } })).toBeUndefined();
    expect(requestAboveLimit({ requests: { cpu: '1.5' }, limits: { cpu: '1500m' } })).toBeUndefined();
    expect(requestAboveLimit({ requests: { cpu: '2' } })).toBeUndefined();
  });

  it('reads the chat-set values back from the annotation, ignoring anything else in it', () => {
    const obj = (value: string) => ({ metadata: { annotations: { [ANNOTATION_RESOURCES]: value } } }) as never;
    expect(chatResources(obj('{"limits":{"memory":"512Mi","gpu":"1"},"requests":"x"}'))).toEqual({ limits: { memory: '512Mi' } });
    expect(chatResources(obj('not json'))).toEqual({});
    expect(chatResources(undefined)).toEqual({});
  });

  it('patches the one container by its merge key, and says what changes', () => {
    expect(setResourcesPatch('web', { limits: { memory: '1Gi' } }, { a: 'b' })).toEqual({
      metadata: { annotations: { a: 'b' } },
      spec: { template: { spec: { containers: [{ name: 'web', resources: { limits: { memory: '1Gi' } } }] } } },
    });
    expect(describeResourceChange({ limits: { memory: '256Mi' } }, { limits: { memory: '384Mi' }, requests: { cpu: '1' } })).toEqual([
      'cpu request none → 1',
      'memory limit 256Mi → 384Mi',
    ]);
  });
});

describe('a value no node can give', () => {
  const node = (name: string, cpu: string, memory: string) => ({ metadata: { name }, status: { allocatable: { cpu, memory } } }) as never;
  const nodes = [node('small', '2', '4Gi'), node('big', '16', '62Gi'), node('mid', '8', '32Gi')];

  it('is found against the largest allocatable of its resource, requests and limits alike, and names that node', () => {
    expect(largestAllocatable(nodes, 'memory')).toEqual({ node: 'big', amount: 62 * 2 ** 30 });
    expect(largestAllocatable(nodes, 'cpu')).toEqual({ node: 'big', amount: 16_000 });
    expect(nodeFit({ limits: { memory: '500Gi' } }, nodes)).toEqual({
      above: { side: 'limits', resource: 'memory', value: '500Gi', largest: '62Gi', node: 'big' },
      unknown: [],
    });
    expect(nodeFit({ requests: { cpu: '16500m' } }, nodes).above).toMatchObject({ side: 'requests', largest: '16', node: 'big' });
    expect(nodeFit({ requests: { memory: '1Gi' }, limits: { memory: '63Gi' } }, nodes).above).toMatchObject({ side: 'limits' });
  });

  it('lets through what fits the largest node, and says which resources no node reports (or no node at all)', () => {
    expect(nodeFit({ limits: { memory: '62Gi', cpu: '16' } }, nodes)).toEqual({ unknown: [] });
    expect(nodeFit({ limits: { memory: '500Gi' } }, [])).toEqual({ unknown: ['memory'] });
    const cpuOnly = [{ metadata: { name: 'odd' }, status: { allocatable: { cpu: '4' } } }] as never[];
    expect(nodeFit({ limits: { memory: '1Gi', cpu: '2' } }, cpuOnly)).toEqual({ unknown: ['memory'] });
  });

  it('without nodes to compare with, counts as raised only what goes above the current value or was not set', () => {
    const now = { requests: { memory: '1Gi', cpu: '500m' }, limits: { memory: '2Gi' } };
    expect(raisedValues({ limits: { memory: '1536Mi' }, requests: { cpu: '250m' } }, now, ['cpu', 'memory'])).toEqual([]);
    expect(raisedValues({ limits: { memory: '4Gi', cpu: '1' } }, now, ['cpu', 'memory'])).toEqual([
      { side: 'limits', resource: 'cpu', value: '1' },
      { side: 'limits', resource: 'memory', value: '4Gi', now: '2Gi' },
    ]);
    expect(raisedValues({ limits: { memory: '4Gi' } }, now, ['cpu'])).toEqual([]);
  });
});
