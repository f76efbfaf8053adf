import { describe, expect, it } from 'vitest';
import { matrixPoints, resolveHeaders, stepSeconds, workingSetQuery } from '../../src/charts/prometheus.js';
import { containerPoints, encodeSample } from '../../src/charts/samples.js';
import { podSamples } from '../../src/charts/sampler.js';

const Mi = 2 ** 20;

describe('Prometheus data shaping', () => {
  it('asks for one container by namespace, pod and container, quoting the values', () => {
    expect(workingSetQuery('beta', 'web-5d8f-abcde', 'app')).toBe(
      'container_memory_working_set_bytes{namespace="beta",pod="web-5d8f-abcde",container="app"}',
    );
    expect(workingSetQuery('a"b', 'p\\q', 'c')).toBe('container_memory_working_set_bytes{namespace="a\\"b",pod="p\\\\q",container="c"}');
  });

  it('spreads 240 points over the window: 15 s for an hour, never under 0.1 s', () => {
    expect(stepSeconds(0, 3_600_000)).toBe(15);
    expect(stepSeconds(0, 600_000)).toBe(2.5);
    expect(stepSeconds(0, 5_000)).toBe(0.1);
    expect(stepSeconds(0, 3_600_001)).toBe(15.001);
  });

  it('merges the series of each container instance into one line in time order, the larger value where two meet', () => {
    const points = matrixPoints([
      {
        metric: { id: 'second' },
        values: [
          [30, String(100 * Mi)],
          [45, String(110 * Mi)],
        ],
      },
      {
        metric: { id: 'first' },
        values: [
          [0, String(120 * Mi)],
          [15, String(250 * Mi)],
          [30, String(256 * Mi)],
        ],
      },
      { metric: { id: 'junk' }, values: [[60, 'NaN']] },
    ]);
    expect(points).toEqual([
      [0, 120 * Mi],
      [15_000, 250 * Mi],
      [30_000, 256 * Mi],
      [45_000, 110 * Mi],
    ]);
    expect(matrixPoints([])).toEqual([]);
  });

  it('reads header values from the environment where asked, naming the missing variables (not their values)', () => {
    expect(
      resolveHeaders(
        { 'X-Org': 'team', Authorization: { env: 'PROM_AUTH' }, 'X-Other': { env: 'UNSET_VAR' } },
        { PROM_AUTH: 'Bearer s3cret' },
      ),
    ).toEqual({
      headers: { 'X-Org': 'team', Authorization: 'Bearer s3cret' },
      missing: ['UNSET_VAR'],
    });
  });
});

describe('metrics.k8s.io samples', () => {
  it('encodes one pod sample per entry and reads one container back in time order, skipping bad entries', () => {
    const entries = [
      encodeSample(2_000, [
        { container: 'app', bytes: 200 * Mi },
        { container: 'sidecar', bytes: 10 * Mi },
      ]),
      encodeSample(1_000, [{ container: 'app', bytes: 100 * Mi + 0.4 }]),
      'garbage',
      '3000|app=oops',
      '4000|app=1;bad;=5',
    ];
    expect(entries[0]).toBe(`2000|app=${200 * Mi};sidecar=${10 * Mi}`);
    expect(containerPoints(entries, 'app')).toEqual([
      [1_000, 100 * Mi],
      [2_000, 200 * Mi],
      [4_000, 1],
    ]);
    expect(containerPoints(entries, 'sidecar')).toEqual([[2_000, 10 * Mi]]);
    expect(containerPoints(entries, 'none')).toEqual([]);
  });

  it('groups a metrics list by pod, bounded to maxPods pods', () => {
    const result = {
      ok: true as const,
      containers: [
        { pod: 'a', container: 'app', bytes: 1 },
        { pod: 'b', container: 'app', bytes: 2 },
        { pod: 'a', container: 'sidecar', bytes: 3 },
        { pod: 'c', container: 'app', bytes: 4 },
      ],
    };
    expect(podSamples(result, 10)).toEqual([
      {
        pod: 'a',
        containers: [
          { container: 'app', bytes: 1 },
          { container: 'sidecar', bytes: 3 },
        ],
      },
      { pod: 'b', containers: [{ container: 'app', bytes: 2 }] },
      { pod: 'c', containers: [{ container: 'app', bytes: 4 }] },
    ]);
    expect(podSamples(result, 2).map((p) => p.pod)).toEqual(['a', 'b']);
  });
});
