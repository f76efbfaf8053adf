/**
 * Charts as PNG without a browser, off the event loop: one worker thread
 * loads ECharts (its single-file build) and resvg, draws the chart with
 * ECharts' server-side SVG renderer and rasterises it with resvg, using a
 * bundled font (DejaVu Sans, from the `dejavu-fonts-ttf` package) so text looks
 * the same on every machine. The alerts' own work never waits for a chart.
 *
 * resvg (resvg-js 2.6) reads a font file whole from disk for every glyph it
 * lays out, and DejaVu Sans is 740 KB: a chart with 60 node names spent most
 * of its time copying fonts. So each picture gets the bundled fonts cut down to
 * the characters its SVG holds (HarfBuzz's subsetter, as WebAssembly; kept for
 * the last few character sets): the same outlines, advances and kerning for
 * those characters, a few KB to read, in a temporary folder that lives only
 * while resvg turns the text into paths.
 *
 * Options cross to the worker as data (structured clone): no functions, so
 * formatters are ECharts' string templates.
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import type * as ECharts from 'echarts';

const require = createRequire(import.meta.url);

export const CHART_FONT_FAMILY = 'DejaVu Sans';
/** The bundled fonts (regular, bold). */
export const CHART_FONT_FILES = ['dejavu-fonts-ttf/ttf/DejaVuSans.ttf', 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'].map((f) =>
  require.resolve(f),
);
/** What every chart's option starts from (the worker draws `{ ...CHART_OPTION_DEFAULTS, ...option }`). */
export const CHART_OPTION_DEFAULTS = { animation: false, textStyle: { fontFamily: CHART_FONT_FAMILY } } as const;
/** A render that takes longer than this is abandoned (and the worker replaced). */
const RENDER_TIMEOUT_MS = 10_000;

export interface ChartSize {
  width: number;
  height: number;
}

/** The worker: plain CommonJS, evaluated as is (the module paths come in workerData). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const echarts = require(workerData.echarts);
const { Resvg } = require(workerData.resvg);

// HarfBuzz's subsetter (a WebAssembly module without imports) with each bundled font loaded once.
const hb = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(workerData.subsetter))).exports;
hb._initialize();
const HB_MEMORY_MODE_READONLY = 1;
const HB_SUBSET_FLAGS_NO_HINTING = 0x1; // resvg does not hint: the instructions would only be read
const HB_SUBSET_FLAGS_NOTDEF_OUTLINE = 0x40; // a character no font has is drawn as the box it was drawn as before
const faces = workerData.fonts.map((file) => {
  const bytes = readFileSync(file);
  const at = hb.malloc(bytes.length);
  new Uint8Array(hb.memory.buffer).set(bytes, at);
  const blob = hb.hb_blob_create(at, bytes.length, HB_MEMORY_MODE_READONLY, 0, 0);
  const face = hb.hb_face_create(blob, 0);
  hb.hb_blob_destroy(blob);
  return face;
});

/** Every character the SVG's text can draw: all it holds, numeric references, printable ASCII (named references). */
function codePoints(svg) {
  const set = new Set();
  for (let c = 0x20; c < 0x7f; c++) set.add(c);
  for (const ch of svg) set.add(ch.codePointAt(0));
  for (const m of svg.matchAll(/&#(x[0-9a-fA-F]+|[0-9]+);/g)) {
    const c = m[1][0] === 'x' ? parseInt(m[1].slice(1), 16) : Number(m[1]);
    if (c <= 0x10ffff) set.add(c);
  }
  return set;
}

/** The font face cut down to the code points: a TrueType file's bytes. */
function subset(face, codePoints) {
  const input = hb.hb_subset_input_create_or_fail();
  if (!input) throw new Error('font subsetting: out of memory');
  try {
    hb.hb_subset_input_set_flags(input, hb.hb_subset_input_get_flags(input) | HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_NOTDEF_OUTLINE);
    const unicodes = hb.hb_subset_input_unicode_set(input);
    for (const c of codePoints) hb.hb_set_add(unicodes, c);
    const cut = hb.hb_subset_or_fail(face, input);
    if (!cut) throw new Error('font subsetting failed');
    const blob = hb.hb_face_reference_blob(cut);
    try {
      const length = hb.hb_blob_get_length(blob);
      if (!length) throw new Error('font subsetting gave an empty font');
      return Buffer.from(new Uint8Array(hb.memory.buffer, hb.hb_blob_get_data(blob, 0), length));
    } finally {
      hb.hb_blob_destroy(blob);
      hb.hb_face_destroy(cut);
    }
  } finally {
    hb.hb_subset_input_destroy(input);
  }
}

// The fonts of the last few character sets: most pictures hold the same few characters beyond ASCII.
const subsets = new Map();
function fontsFor(svg) {
  const points = codePoints(svg);
  const key = [...points].filter((c) => c < 0x20 || c > 0x7e).sort((a, b) => a - b).join(',');
  const fonts = subsets.get(key) || faces.map((face) => subset(face, points));
  subsets.delete(key);
  subsets.set(key, fonts);
  if (subsets.size > 16) subsets.delete(subsets.keys().next().value);
  return fonts;
}

function rasterize(svg) {
  const fonts = fontsFor(svg);
  const dir = mkdtempSync(join(workerData.tmp, 'k8s-chatops-chart-'));
  let resvg;
  try {
    const fontFiles = fonts.map((bytes, i) => {
      const file = join(dir, i + '.ttf');
      writeFileSync(file, bytes);
      return file;
    });
    // resvg lays the text out (reading the fonts) here; render() draws paths only.
    resvg = new Resvg(svg, {
      background: '#ffffff',
      font: { fontFiles, loadSystemFonts: false, defaultFontFamily: workerData.family },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return resvg.render().asPng();
}

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
    const png = rasterize(svg);
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
        subsetter: require.resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'),
        fonts: CHART_FONT_FILES,
        tmp: tmpdir(),
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
        option: { ...CHART_OPTION_DEFAULTS, ...option },
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
