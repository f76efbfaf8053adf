import { describe, expect, it } from 'vitest';
import {
  CAPACITY_CHART_COLORS,
  CAPACITY_CHART_PANELS,
  CAPACITY_CHART_SIZE,
  capacityAxisMax,
  capacityChartOption,
  capacityColumnOf,
  capacityRowOf,
  renderCapacityChart,
  type CapacityNode,
} from '../../src/charts/capacity-chart.js';
import { decodePng, inkShare, rowsWithLine, type Picture } from '../support/png.js';

const Gi = 2 ** 30;
const node = (name: string, cpuReq: number, memReq: number, usable = true): CapacityNode => ({
  name,
  requested: { cpuMillis: cpuReq, memoryBytes: memReq },
  allocatable: { cpuMillis: 4000, memoryBytes: 8 * Gi },
  usable,
});
// node-a: 50 % CPU, 75 % memory; node-b: 25 %, 50 %; the pod asks 1 CPU (25 %) and 4 Gi (50 %).
const nodes = [node('node-a', 2000, 6 * Gi), node('node-b', 1000, 4 * Gi), node('node-c', 3000, 2 * Gi, false)];
const pod = { cpuMillis: 1000, memoryBytes: 4 * Gi };

/** Rows where the pod's mark is drawn across node `i`'s bar in a panel. */
function markRows(p: Picture, panel: 'cpu' | 'memory', i: number, count: number): number[] {
  const x = Math.round(capacityColumnOf(panel, i, count));
  const panelBox = CAPACITY_CHART_PANELS[panel];
  return rowsWithLine(p, CAPACITY_CHART_COLORS.pod, x - 10, x + 10, 0.9, 60).filter(
    (y) => y >= panelBox.top - 2 && y <= panelBox.top + panelBox.height + 2,
  );
}

describe('capacity chart', () => {
  it('scales both axes to 1.1 × the largest share, in steps of 25 %, capped at 300 %', () => {
    // node-a with the pod: 125 % memory → 137.5 → 150.
    expect(capacityAxisMax(nodes, pod)).toBe(150);
    expect(capacityAxisMax([node('x', 0, 0)], { cpuMillis: 0, memoryBytes: 0 })).toBe(125);
    expect(capacityAxisMax(nodes, { cpuMillis: 100_000, memoryBytes: 0 })).toBe(300);
  });

  it('is plain data (crosses to the worker) with a bar and a mark per node and resource', () => {
    const option = capacityChartOption({ title: 't', subtitle: 's', nodes, pod });
    expect(() => structuredClone(option)).not.toThrow();
    const series = option.series as Array<{ type: string; data: unknown[] }>;
    expect(series.map((s) => s.type)).toEqual(['bar', 'scatter', 'bar', 'scatter']);
    expect(series[1]!.data).toEqual([
      [0, 75],
      [1, 50],
      [2, 100],
    ]);
    expect(series[3]!.data).toEqual([
      [0, 125],
      [1, 100],
      [2, 75],
    ]);
  });

  it('renders a PNG of the fixed size with the pod’s mark where the rule puts it', async () => {
    const png = await renderCapacityChart({ title: 'beta · deployment web · node capacity', subtitle: 'pending pod web-1', nodes, pod });
    const p = decodePng(png);
    if (process.env.CHART_DUMP) (await import('node:fs')).writeFileSync('/tmp/capacity-chart.png', png);
    expect([p.width, p.height]).toEqual([CAPACITY_CHART_SIZE.width, CAPACITY_CHART_SIZE.height]);
    expect(inkShare(p)).toBeGreaterThan(0.03);
    const axisMax = 150;
    const expectAt = (rows: number[], percent: number) => {
      expect(rows.length).toBeGreaterThan(0);
      const mid = (Math.min(...rows) + Math.max(...rows)) / 2;
      expect(Math.abs(mid - capacityRowOf(percent, axisMax))).toBeLessThanOrEqual(2);
    };
    expectAt(markRows(p, 'cpu', 0, 3), 75);
    expectAt(markRows(p, 'memory', 0, 3), 125);
    expectAt(markRows(p, 'memory', 1, 3), 100);
    // The bars: node-b's memory bar (50 %) is green up to its top and not above.
    const x = Math.round(capacityColumnOf('memory', 1, 3));
    const green = rowsWithLine(p, CAPACITY_CHART_COLORS.memory, x - 5, x + 5, 0.9, 60);
    expect(Math.abs(Math.min(...green) - capacityRowOf(50, axisMax))).toBeLessThanOrEqual(2);
  });
});
