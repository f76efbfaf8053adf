/**
 * The Unschedulable chart: per node, what pods request as a share of what the
 * node can allocate, CPU in one panel and memory in the other, a line at 100 %
 * (allocatable), and on each node's bar a mark where the pending pod's request
 * would take it. The layout and the scale are fixed rules (not ECharts'
 * automatic ones) so a reader — and a test — can tell where a value is drawn:
 * the panels are `CAPACITY_CHART_PANELS` inside a `CAPACITY_CHART_SIZE`
 * picture, both y axes run from 0 to `capacityAxisMax(...)` percent.
 */
import type * as ECharts from 'echarts';
import { formatCpu, formatMemory, type Requests } from '../kube/capacity.js';
import { CHART_FONT_FAMILY, renderPng, type ChartSize } from './render.js';

export interface CapacityNode {
  name: string;
  requested: Requests;
  allocatable: Requests;
  /** Ready and not cordoned: the scheduler may place the pod there (others are drawn grey). */
  usable: boolean;
}

export interface CapacityChartInput {
  /** e.g. `beta · deployment web · node capacity` */
  title: string;
  /** e.g. `pending pod web-5d8f-abcde asks 2 CPU, 4Gi memory` */
  subtitle: string;
  nodes: readonly CapacityNode[];
  /** The pending pod's requests. */
  pod: Requests;
}

/** The most nodes the chart shows (more would make unreadable bars). */
export const CAPACITY_CHART_MAX_NODES = 30;
export const CAPACITY_CHART_SIZE: ChartSize = { width: 960, height: 520 };
/** The two plot areas (CPU, memory) in pixels. */
export const CAPACITY_CHART_PANELS = {
  cpu: { left: 64, top: 96, width: 400, height: 280 },
  memory: { left: 536, top: 96, width: 400, height: 280 },
} as const;
export const CAPACITY_CHART_COLORS = {
  cpu: '#1f6fd1',
  memory: '#2e9e44',
  unusable: '#b8b8b8',
  allocatable: '#1d1c1d',
  pod: '#d62728',
} as const;
/** The y axis never goes above this (a request many times a node's size is drawn at the top). */
export const CAPACITY_AXIS_CAP = 300;

const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);

/** Where the pending pod would take each node: its requests plus the pod's, in % of allocatable. */
export function withPod(node: CapacityNode, pod: Requests): { cpu: number; memory: number } {
  return {
    cpu: pct(node.requested.cpuMillis + pod.cpuMillis, node.allocatable.cpuMillis),
    memory: pct(node.requested.memoryBytes + pod.memoryBytes, node.allocatable.memoryBytes),
  };
}

/**
 * The top of both y axes, in percent: 1.1 × the largest of 100 and every
 * requested and requested-plus-pod share, rounded up to a multiple of 25, at
 * most `CAPACITY_AXIS_CAP`.
 */
export function capacityAxisMax(nodes: readonly CapacityNode[], pod: Requests): number {
  let top = 100;
  for (const n of nodes) {
    const w = withPod(n, pod);
    top = Math.max(top, w.cpu, w.memory);
  }
  return Math.min(CAPACITY_AXIS_CAP, Math.ceil((top * 1.1) / 25) * 25);
}

/** The pixel row (from the top) where `percent` is drawn. */
export function capacityRowOf(percent: number, axisMax: number): number {
  const p = CAPACITY_CHART_PANELS.cpu;
  return p.top + p.height * (1 - Math.min(percent, axisMax) / axisMax);
}

/** The pixel column of the centre of node `index`'s bar in a panel. */
export function capacityColumnOf(panel: keyof typeof CAPACITY_CHART_PANELS, index: number, count: number): number {
  const p = CAPACITY_CHART_PANELS[panel];
  return p.left + (p.width * (index + 0.5)) / count;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The ECharts option for the chart (pure: the same input gives the same picture). */
export function capacityChartOption(input: CapacityChartInput): ECharts.EChartsOption {
  const nodes = input.nodes.slice(0, CAPACITY_CHART_MAX_NODES);
  const axisMax = capacityAxisMax(nodes, input.pod);
  const names = nodes.map((n) => n.name);
  const band = CAPACITY_CHART_PANELS.cpu.width / Math.max(1, nodes.length);
  const markWidth = Math.max(4, Math.round(band * 0.7));
  const panels = (['cpu', 'memory'] as const).map((r, i) => {
    const requested = (n: CapacityNode) =>
      r === 'cpu' ? pct(n.requested.cpuMillis, n.allocatable.cpuMillis) : pct(n.requested.memoryBytes, n.allocatable.memoryBytes);
    const bars: ECharts.BarSeriesOption = {
      type: 'bar',
      name: `${r} requested`,
      xAxisIndex: i,
      yAxisIndex: i,
      barWidth: '50%',
      data: nodes.map((n) => ({
        value: round1(Math.min(requested(n), axisMax)),
        itemStyle: { color: n.usable ? CAPACITY_CHART_COLORS[r] : CAPACITY_CHART_COLORS.unusable },
      })),
      markLine: {
        symbol: 'none',
        silent: true,
        animation: false,
        data: [
          {
            yAxis: 100,
            lineStyle: { color: CAPACITY_CHART_COLORS.allocatable, type: 'dashed', width: 1.5 },
            label: { formatter: 'allocatable', position: 'insideEndTop', color: CAPACITY_CHART_COLORS.allocatable },
          },
        ] as never,
      },
    };
    const marks: ECharts.ScatterSeriesOption = {
      type: 'scatter',
      name: `${r} with the pod`,
      xAxisIndex: i,
      yAxisIndex: i,
      symbol: 'rect',
      symbolSize: [markWidth, 4],
      itemStyle: { color: CAPACITY_CHART_COLORS.pod, opacity: 1 },
      data: nodes.map((n, x) => [x, round1(Math.min(withPod(n, input.pod)[r], axisMax))]),
      z: 5,
    };
    const grid = { ...CAPACITY_CHART_PANELS[r], outerBoundsMode: 'none' };
    const xAxis = {
      type: 'category',
      gridIndex: i,
      data: names,
      axisTick: { alignWithLabel: true },
      axisLabel: {
        interval: 0,
        // Many nodes: steeper labels, so neighbours do not print over each other.
        rotate: nodes.length > 12 ? 70 : nodes.length > 4 ? 40 : 0,
        fontSize: 10,
        width: nodes.length > 4 ? 96 : band - 4,
        overflow: 'truncate',
        color: '#616061',
      },
    };
    const yAxis = {
      type: 'value',
      gridIndex: i,
      min: 0,
      max: axisMax,
      interval: axisMax / 5,
      axisLabel: { formatter: '{value} %', color: '#616061' },
      splitLine: { lineStyle: { color: '#e8e8e8' } },
    };
    return { bars, marks, grid, xAxis, yAxis };
  });
  const heading = (r: 'cpu' | 'memory', text: string) => ({
    type: 'text',
    left: CAPACITY_CHART_PANELS[r].left,
    top: CAPACITY_CHART_PANELS[r].top - 22,
    style: { text, fill: '#1d1c1d', fontSize: 13, fontWeight: 'bold', fontFamily: CHART_FONT_FAMILY },
  });
  return {
    backgroundColor: '#ffffff',
    title: {
      text: input.title,
      subtext: input.subtitle,
      left: CAPACITY_CHART_PANELS.cpu.left - 8,
      top: 8,
      textStyle: { fontSize: 16, fontWeight: 'bold', color: '#1d1c1d' },
      subtextStyle: { fontSize: 12, color: '#616061' },
    },
    grid: panels.map((p) => p.grid) as never,
    xAxis: panels.map((p) => p.xAxis) as never,
    yAxis: panels.map((p) => p.yAxis) as never,
    graphic: [
      heading('cpu', `CPU requested, % of allocatable (pod: ${formatCpu(input.pod.cpuMillis)})`),
      heading('memory', `Memory requested, % of allocatable (pod: ${formatMemory(input.pod.memoryBytes)})`),
      {
        type: 'text',
        left: CAPACITY_CHART_PANELS.cpu.left,
        bottom: 10,
        style: {
          text: 'red mark: a node’s requests plus the pending pod’s · grey: not ready or cordoned',
          fill: '#868686',
          fontSize: 11,
          fontFamily: CHART_FONT_FAMILY,
        },
      },
    ],
    series: panels.flatMap((p) => [p.bars, p.marks]),
  };
}

/** The chart as PNG bytes (`CAPACITY_CHART_SIZE`). */
export function renderCapacityChart(input: CapacityChartInput): Promise<Buffer> {
  return renderPng(capacityChartOption(input), CAPACITY_CHART_SIZE);
}
