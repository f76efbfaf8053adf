import { describe, expect, it } from 'vitest';
import {
  MEMORY_CHART_COLORS,
  MEMORY_CHART_GRID,
  MEMORY_CHART_SIZE,
  axisUnit,
  formatBytes,
  memoryAxisMax,
  memoryChartOption,
  renderMemoryChart,
  type MemoryPoint,
} from '../../src/charts/memory-chart.js';
import { colourCount, columnsWithLine, decodePng, inkShare, rowsWithLine } from '../support/png.js';

const Mi = 2 ** 20;
const to = Date.UTC(2026, 11, 7, 18, 0, 0);
const from = to - 3_600_000;
/** Rises from 128 Mi to the 256 Mi limit every 20 minutes, killed at each top. */
const points: MemoryPoint[] = [];
for (let t = from; t <= to; t += 30_000) points.push([t, 128 * Mi + (((t - from) % 1_200_000) / 1_200_000) * 128 * Mi]);
const kills = [from + 1_200_000, from + 2_400_000, to - 1];

const { width, height } = MEMORY_CHART_SIZE;
const plot = {
  x0: MEMORY_CHART_GRID.left,
  x1: width - MEMORY_CHART_GRID.right,
  y0: MEMORY_CHART_GRID.top,
  y1: height - MEMORY_CHART_GRID.bottom,
};
/** Where the chart must draw `bytes` when the axis tops out at 1.25 × 256 Mi (the documented rule). */
const rowOf = (bytes: number) => plot.y0 + (plot.y1 - plot.y0) * (1 - bytes / (1.25 * 256 * Mi));
const colOf = (t: number) => plot.x0 + ((plot.x1 - plot.x0) * (t - from)) / (to - from);

describe('memory chart', () => {
  it('scales the y axis to 1.25 × the largest of limit, request and peak', () => {
    expect(memoryAxisMax(points, 256 * Mi, 128 * Mi)).toBe(320 * Mi);
    expect(memoryAxisMax([[0, 400 * Mi]], 256 * Mi)).toBe(500 * Mi);
    expect(memoryAxisMax([], undefined, 64 * Mi)).toBe(80 * Mi);
    expect(memoryAxisMax([])).toBe(Mi);
  });

  it('labels bytes for a reader and picks the axis unit', () => {
    expect(formatBytes(256 * Mi)).toBe('256 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatBytes(312.53 * Mi)).toBe('312.5 MiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(axisUnit(320 * Mi)).toEqual({ name: 'MiB', bytes: Mi });
    expect(axisUnit(5 * 2 ** 30)).toEqual({ name: 'GiB', bytes: 2 ** 30 });
  });

  it('marks only the kills inside the window, labelling the latest', () => {
    const option = memoryChartOption({
      title: 't',
      subtitle: 's',
      points,
      limitBytes: 256 * Mi,
      kills: [from - 1, ...kills],
      from,
      to,
      source: 'x',
    });
    const series = (option.series as Array<{ markLine: { data: Array<{ xAxis?: number; label: { show?: boolean } }> } }>)[0]!;
    const marks = series.markLine.data.filter((d) => d.xAxis !== undefined);
    expect(marks.map((m) => m.xAxis)).toEqual(kills);
    expect(marks.map((m) => m.label.show !== false)).toEqual([false, false, true]);
    // Data only (it crosses to the chart worker): no functions anywhere in the option.
    expect(JSON.parse(JSON.stringify(option))).toEqual(option);
  });

  it('renders a PNG of the fixed size with the limit, the request and the kills where they belong', async () => {
    const png = await renderMemoryChart({
      title: 'beta · deployment web',
      subtitle: 'pod web-5d8f-abcde · container app',
      points,
      limitBytes: 256 * Mi,
      requestBytes: 128 * Mi,
      kills,
      from,
      to,
      source: 'Prometheus',
    });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const picture = decodePng(png);
    expect([picture.width, picture.height]).toEqual([width, height]);
    expect(inkShare(picture)).toBeGreaterThan(0.05);
    expect(colourCount(picture)).toBeGreaterThan(20);

    const limitRows = rowsWithLine(picture, MEMORY_CHART_COLORS.limit, plot.x0 + 2, plot.x1 - 2, 0.9);
    expect(limitRows.length).toBeGreaterThan(0);
    for (const y of limitRows) expect(Math.abs(y - rowOf(256 * Mi))).toBeLessThanOrEqual(1.5);

    const requestRows = rowsWithLine(picture, MEMORY_CHART_COLORS.request, plot.x0 + 2, plot.x1 - 2, 0.4);
    expect(requestRows.length).toBeGreaterThan(0);
    for (const y of requestRows) expect(Math.abs(y - rowOf(128 * Mi))).toBeLessThanOrEqual(1.5);

    const killCols = columnsWithLine(picture, MEMORY_CHART_COLORS.kill, plot.y0 + 2, plot.y1 - 2, 0.3);
    for (const t of kills)
      expect(
        killCols.some((x) => Math.abs(x - colOf(t)) <= 1.5),
        `a kill mark at x=${colOf(t)}`,
      ).toBe(true);
  });

  it('draws a chart from a single sample, without a limit', async () => {
    const picture = decodePng(
      await renderMemoryChart({ title: 't', subtitle: 's', points: [[to - 1000, 50 * Mi]], kills: [], from: to - 60_000, to, source: 'x' }),
    );
    expect([picture.width, picture.height]).toEqual([width, height]);
    expect(rowsWithLine(picture, MEMORY_CHART_COLORS.limit, plot.x0 + 2, plot.x1 - 2, 0.9)).toEqual([]);
  });
});
