/**
 * Charts as PNG without a browser: ECharts' server-side SVG renderer draws the
 * chart, resvg rasterises it on libuv's thread pool (the event loop stays
 * free), with a bundled font (DejaVu Sans, from the `dejavu-fonts-ttf`
 * package) so text looks the same on every machine.
 */
import { createRequire } from 'node:module';
import { renderAsync } from '@resvg/resvg-js';
import type * as ECharts from 'echarts';

const require = createRequire(import.meta.url);

export const CHART_FONT_FAMILY = 'DejaVu Sans';
const FONT_FILES = ['dejavu-fonts-ttf/ttf/DejaVuSans.ttf', 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'].map((f) => require.resolve(f));

let echarts: typeof ECharts | undefined;

/**
 * ECharts, loaded on first use: its single-file build (one `require`) loads
 * several times faster than its many ES modules, and only a replica that
 * draws a chart pays for it.
 */
function loadECharts(): typeof ECharts {
  echarts ??= require('echarts') as typeof ECharts;
  return echarts;
}

export interface ChartSize {
  width: number;
  height: number;
}

/** The chart as an SVG document (text in the bundled font's family). */
export function renderSvg(option: ECharts.EChartsOption, size: ChartSize): string {
  const chart = loadECharts().init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: CHART_FONT_FAMILY }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** SVG → PNG (white background) with the bundled font only: no system font changes the picture. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const image = await renderAsync(svg, {
    background: '#ffffff',
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY },
  });
  return image.asPng();
}

/** An ECharts option → PNG bytes. */
export async function renderPng(option: ECharts.EChartsOption, size: ChartSize): Promise<Buffer> {
  return svgToPng(renderSvg(option, size));
}
