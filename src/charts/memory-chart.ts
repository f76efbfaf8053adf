/**
 * The OOMKilled chart: a container's memory working set over time, its limit
 * and request as lines, the kills marked. The layout and the scale are fixed
 * rules (not ECharts' automatic ones) so a reader — and a test — can tell where
 * a value is drawn: the plot area is `MEMORY_CHART_GRID` inside a
 * `MEMORY_CHART_SIZE` picture, the y axis runs from 0 to `memoryAxisMax(...)`.
 */
import type * as ECharts from 'echarts';
import { CHART_FONT_FAMILY, renderPng, type ChartSize } from './render.js';

/** One sample: when (ms since epoch) and how many bytes. */
export type MemoryPoint = readonly [t: number, bytes: number];

export interface MemoryChartInput {
  /** e.g. `beta · deployment web` */
  title: string;
  /** e.g. `pod web-5d8f-abcde · container app` */
  subtitle: string;
  points: readonly MemoryPoint[];
  limitBytes?: number;
  requestBytes?: number;
  /** When the container was OOM-killed (ms). */
  kills: readonly number[];
  /** The x axis: from (ms) … to (ms). */
  from: number;
  to: number;
  /** Where the data came from, printed under the chart (e.g. `Prometheus`). */
  source: string;
}

export const MEMORY_CHART_SIZE: ChartSize = { width: 960, height: 480 };
/** The plot area's margins in pixels. */
export const MEMORY_CHART_GRID = { left: 88, right: 150, top: 72, bottom: 64 } as const;
export const MEMORY_CHART_COLORS = { usage: '#1f6fd1', limit: '#d62728', request: '#2e9e44', kill: '#8e44ad' } as const;
/** Headroom above the largest of limit, request and the peak. */
export const MEMORY_AXIS_HEADROOM = 1.25;

/** The top of the y axis: 1.25 × the largest of limit, request and the observed peak (1 MiB when all are 0). */
export function memoryAxisMax(points: readonly MemoryPoint[], limitBytes?: number, requestBytes?: number): number {
  const peak = points.reduce((m, [, v]) => Math.max(m, v), 0);
  const top = Math.max(peak, limitBytes ?? 0, requestBytes ?? 0);
  return top > 0 ? top * MEMORY_AXIS_HEADROOM : 2 ** 20;
}

/** The pixel row (from the top) where `bytes` is drawn. */
export function memoryRowOf(bytes: number, axisMax: number, size: ChartSize = MEMORY_CHART_SIZE): number {
  const plot = size.height - MEMORY_CHART_GRID.top - MEMORY_CHART_GRID.bottom;
  return MEMORY_CHART_GRID.top + plot * (1 - bytes / axisMax);
}

const UNITS = [
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
] as const;

/** Bytes for a reader: `256 MiB`, `1.5 GiB`, `312.5 MiB` (at most one decimal). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of UNITS) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${Math.round(bytes)} B`;
}

/** The unit of the y axis: GiB from 2 GiB up, else MiB. */
export function axisUnit(axisMax: number): { name: 'GiB' | 'MiB'; bytes: number } {
  return axisMax >= 2 * 2 ** 30 ? { name: 'GiB', bytes: 2 ** 30 } : { name: 'MiB', bytes: 2 ** 20 };
}

/** The ECharts option for the chart (pure: the same input gives the same picture). */
export function memoryChartOption(input: MemoryChartInput): ECharts.EChartsOption {
  const axisMax = memoryAxisMax(input.points, input.limitBytes, input.requestBytes);
  const unit = axisUnit(axisMax);
  const inUnit = (bytes: number) => bytes / unit.bytes;
  // Under ten minutes the time labels carry seconds.
  const timeFormat = input.to - input.from < 600_000 ? '{HH}:{mm}:{ss}' : '{HH}:{mm}';
  const lines: Array<Record<string, unknown>> = [];
  if (input.limitBytes !== undefined && input.limitBytes > 0) {
    lines.push({
      yAxis: inUnit(input.limitBytes),
      lineStyle: { color: MEMORY_CHART_COLORS.limit, type: 'solid', width: 2 },
      label: { formatter: `limit ${formatBytes(input.limitBytes)}`, color: MEMORY_CHART_COLORS.limit, position: 'end' },
    });
  }
  if (input.requestBytes !== undefined && input.requestBytes > 0) {
    lines.push({
      yAxis: inUnit(input.requestBytes),
      lineStyle: { color: MEMORY_CHART_COLORS.request, type: 'dashed', width: 2 },
      label: { formatter: `request ${formatBytes(input.requestBytes)}`, color: MEMORY_CHART_COLORS.request, position: 'end' },
    });
  }
  const kills = input.kills.filter((t) => t >= input.from && t <= input.to);
  kills.forEach((t, i) => {
    lines.push({
      xAxis: t,
      lineStyle: { color: MEMORY_CHART_COLORS.kill, type: 'dashed', width: 1.5 },
      // Only the latest kill is labelled: kills close together would print over each other.
      label: i === kills.length - 1 ? { formatter: 'OOMKilled', color: MEMORY_CHART_COLORS.kill, position: 'end' } : { show: false },
    });
  });
  const usage: ECharts.LineSeriesOption = {
    type: 'line',
    name: 'working set',
    data: input.points.map(([t, v]) => [t, inUnit(v)]),
    showSymbol: input.points.length <= 2,
    symbolSize: 6,
    lineStyle: { color: MEMORY_CHART_COLORS.usage, width: 2 },
    itemStyle: { color: MEMORY_CHART_COLORS.usage },
    areaStyle: { color: 'rgba(31, 111, 209, 0.12)' },
    markLine: { symbol: 'none', silent: true, animation: false, data: lines as never },
  };
  return {
    backgroundColor: '#ffffff',
    useUTC: true,
    title: {
      text: input.title,
      subtext: input.subtitle,
      left: MEMORY_CHART_GRID.left - 8,
      top: 8,
      textStyle: { fontSize: 16, fontWeight: 'bold', color: '#1d1c1d' },
      subtextStyle: { fontSize: 12, color: '#616061' },
    },
    // Fixed margins: labels never shrink the plot area, so a value's pixel row follows from the scale alone.
    grid: { ...MEMORY_CHART_GRID, outerBoundsMode: 'none' },
    xAxis: {
      type: 'time',
      min: input.from,
      max: input.to,
      splitNumber: 6,
      axisLabel: { formatter: timeFormat, color: '#616061', hideOverlap: true },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: 0,
      max: inUnit(axisMax),
      interval: inUnit(axisMax) / 5,
      axisLabel: { formatter: `{value} ${unit.name}`, color: '#616061' },
      splitLine: { lineStyle: { color: '#e8e8e8' } },
    },
    graphic: [
      {
        type: 'text',
        right: 12,
        bottom: 10,
        style: { text: `${input.source} · times in UTC`, fill: '#868686', fontSize: 11, fontFamily: CHART_FONT_FAMILY },
      },
    ],
    series: [usage],
  };
}

/** The chart as PNG bytes (`MEMORY_CHART_SIZE`). */
export function renderMemoryChart(input: MemoryChartInput): Promise<Buffer> {
  return renderPng(memoryChartOption(input), MEMORY_CHART_SIZE);
}
