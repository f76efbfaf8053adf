/**
 * The chart worker hands resvg the bundled fonts cut down to each picture's characters
 * (src/charts/render.ts, for speed): what it draws must be what the whole fonts draw,
 * pixel for pixel, and no font file may outlive its picture.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type * as ECharts from 'echarts';
import { afterAll, describe, expect, it } from 'vitest';
import { CAPACITY_CHART_SIZE, capacityChartOption, type CapacityNode } from '../../src/charts/capacity-chart.js';
import { MEMORY_CHART_SIZE, memoryChartOption } from '../../src/charts/memory-chart.js';
import { CHART_FONT_FAMILY, CHART_FONT_FILES, CHART_OPTION_DEFAULTS, renderPng, type ChartSize } from '../../src/charts/render.js';
import { decodePng, inkShare } from '../support/png.js';

// The chart worker starts with the first render below and takes its temporary folder from here.
const scratch = mkdtempSync(join(tmpdir(), 'charts-fonts-test-'));
const tmpBefore = process.env.TMPDIR;
process.env.TMPDIR = scratch;
afterAll(() => {
  if (tmpBefore === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmpBefore;
  rmSync(scratch, { recursive: true, force: true });
});

const Mi = 2 ** 20;

/** The same pipeline in this thread with the whole bundled fonts: what the worker must draw. */
function reference(option: ECharts.EChartsOption, size: ChartSize): Buffer {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  let svg: string;
  try {
    chart.setOption({ ...CHART_OPTION_DEFAULTS, ...option });
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  return new Resvg(svg, {
    background: '#ffffff',
    font: { fontFiles: CHART_FONT_FILES, loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY },
  })
    .render()
    .asPng();
}

async function expectSamePicture(option: ECharts.EChartsOption, size: ChartSize): Promise<void> {
  const drawn = decodePng(await renderPng(option, size));
  const expected = decodePng(reference(option, size));
  expect([drawn.width, drawn.height]).toEqual([expected.width, expected.height]);
  let differing = 0;
  for (let i = 0; i < drawn.data.length; i += 4) if (drawn.data.readUInt32BE(i) !== expected.data.readUInt32BE(i)) differing++;
  expect(differing, 'pixels that differ from the whole fonts’ picture').toBe(0);
  expect(inkShare(drawn)).toBeGreaterThan(0.03);
}

const nodes = (count: number, name: (i: number) => string): CapacityNode[] =>
  Array.from({ length: count }, (_, i) => ({
    name: name(i),
    requested: { cpuMillis: 500 + (i % 7) * 450, memoryBytes: (1 + (i % 5)) * 1024 * Mi },
    allocatable: { cpuMillis: 4_000, memoryBytes: 8 * 1024 * Mi },
    usable: i % 9 !== 0,
  }));
const pod = { cpuMillis: 2_000, memoryBytes: 4 * 1024 * Mi };

describe('chart fonts', () => {
  it('draws the 30-node capacity chart (60 rotated, truncated names) exactly as the whole fonts do', async () => {
    const option = capacityChartOption({
      title: 'beta · deployment web · node capacity',
      subtitle: 'pending pod web-5d8f9c7b6-abcde asks 2 CPU, 4Gi memory',
      nodes: nodes(30, (i) => `node-${String(i).padStart(2, '0')}.eu-west-1.compute.internal`),
      pod,
    });
    await expectSamePicture(option, CAPACITY_CHART_SIZE);
  });

  it('draws text beyond ASCII, escaped markup and characters no bundled font has exactly as the whole fonts do', async () => {
    const option = capacityChartOption({
      title: 'тест · Ωμέγα · 日本 & <b>"quoted"</b> \'x\' é ñ ß ﬁ →',
      subtitle: 'rocket 🚀 · e\u0301 · tab\there · ‰ ½ ∞ · it’s',
      nodes: nodes(5, (i) => `ünï-${i}-名前`),
      pod,
    });
    await expectSamePicture(option, CAPACITY_CHART_SIZE);
  });

  it('draws the memory chart exactly as the whole fonts do', async () => {
    const to = Date.UTC(2026, 11, 7, 18, 0, 0);
    const from = to - 3_600_000;
    const points: Array<[number, number]> = [];
    for (let t = from; t <= to; t += 15_000) points.push([t, 128 * Mi + (((t - from) % 1_200_000) / 1_200_000) * 128 * Mi]);
    const option = memoryChartOption({
      title: 'beta · deployment web · memory',
      subtitle: 'pod web-5d8f9c7b6-abcde · container app',
      points,
      limitBytes: 256 * Mi,
      requestBytes: 128 * Mi,
      kills: [from + 1_200_000, to],
      from,
      to,
      source: 'Prometheus',
    });
    await expectSamePicture(option, MEMORY_CHART_SIZE);
  });

  it('leaves no font file behind once a picture is drawn', async () => {
    await renderPng(capacityChartOption({ title: 't', subtitle: 's', nodes: nodes(3, (i) => `n-${i}`), pod }), CAPACITY_CHART_SIZE);
    expect(readdirSync(scratch)).toEqual([]);
  });
});
