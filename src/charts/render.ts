/**
 * Charts as PNG without a browser, off the event loop: one worker thread
 * loads ECharts (its single-file build) and resvg, draws the chart with
 * ECharts' server-side SVG renderer and rasterises it with resvg, using a
 * bundled font (DejaVu Sans, from the `dejavu-fonts-ttf` package) so text looks
 * the same on every machine. The alerts' own work never waits for a chart.
 *
 * Options cross to the worker as data (structured clone): no functions, so
 * formatters are ECharts' string templates.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as ECharts from 'echarts';

const require = createRequire(import.meta.url);

export const CHART_FONT_FAMILY = 'DejaVu Sans';
const FONT_FILES = ['dejavu-fonts-ttf/ttf/DejaVuSans.ttf', 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'].map((f) => require.resolve(f));
/** A render that takes longer than this is abandoned (and the worker replaced). */
const RENDER_TIMEOUT_MS = 10_000;

export interface ChartSize {
  width: number;
  height: number;
}

/** The worker: plain CommonJS, evaluated as is (the module paths come in workerData). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const echarts = require(workerData.echarts);
const { Resvg } = require(workerData.resvg);
parentPort.on('message', ({ id, option, width, height }) => {
  try {
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
    let svg;
    try {
      chart.setOption(option);
      svg = chart.renderToSVGString();
    } finally {
      chart.dispose();
    }
    const png = new Resvg(svg, {
      background: '#ffffff',
      font: { fontFiles: workerData.fonts, loadSystemFonts: false, defaultFontFamily: workerData.family },
    }).render().asPng();
    parentPort.postMessage({ id, png: new Uint8Array(png) });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Pending {
  resolve(png: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

class RenderWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        echarts: require.resolve('echarts'),
        resvg: require.resolve('@resvg/resvg-js'),
        fonts: FONT_FILES,
        family: CHART_FONT_FAMILY,
      },
    });
    worker.unref();
    worker.on('message', (m: { id: number; png?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.png) p.resolve(Buffer.from(m.png.buffer, m.png.byteOffset, m.png.byteLength));
      else p.reject(new Error(`chart rendering failed: ${m.error ?? 'unknown error'}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(err);
        this.pending.delete(id);
      }
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`chart worker exited (${code})`)));
    return worker;
  }

  /** Starts the worker (loading ECharts there) ahead of the first chart. */
  warm(): void {
    this.worker ??= this.start();
  }

  render(option: ECharts.EChartsOption, size: ChartSize): Promise<Buffer> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`chart rendering took over ${RENDER_TIMEOUT_MS} ms`));
        void worker.terminate();
      }, RENDER_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({
        id,
        option: { animation: false, textStyle: { fontFamily: CHART_FONT_FAMILY }, ...option },
        width: size.width,
        height: size.height,
      });
    });
  }
}

const renderer = new RenderWorker();

/** An ECharts option (data only: no functions) → PNG bytes, drawn in the chart worker. */
export function renderPng(option: ECharts.EChartsOption, size: ChartSize): Promise<Buffer> {
  return renderer.render(option, size);
}

/**
 * Starts the chart worker now (it loads ECharts in its own thread). The alerts
 * role does not: the worker's memory (tens of MB) is spent only once a chart is due.
 */
export function warmRenderer(): void {
  renderer.warm();
}
