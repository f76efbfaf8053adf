/** Reading the bot's PNG charts in tests: decode, tell a blank picture, find where a colour is drawn. */
import { PNG } from 'pngjs';

export interface Picture {
  width: number;
  height: number;
  /** RGBA, row by row. */
  data: Buffer;
}

/** Decodes PNG bytes; throws when they are not a PNG. */
export function decodePng(bytes: Buffer): Picture {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

function hex(color: string): [number, number, number] {
  const n = Number.parseInt(color.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function near(p: Picture, x: number, y: number, [r, g, b]: [number, number, number], tolerance: number): boolean {
  const i = (y * p.width + x) * 4;
  return Math.abs(p.data[i]! - r) + Math.abs(p.data[i + 1]! - g) + Math.abs(p.data[i + 2]! - b) <= tolerance;
}

/** Share of pixels that are not (near) white. */
export function inkShare(p: Picture): number {
  let ink = 0;
  for (let i = 0; i < p.width * p.height; i++) {
    const o = i * 4;
    if (p.data[o]! + p.data[o + 1]! + p.data[o + 2]! < 3 * 245) ink++;
  }
  return ink / (p.width * p.height);
}

/** Number of distinct colours (a blank or flat picture has one or two). */
export function colourCount(p: Picture): number {
  const seen = new Set<number>();
  for (let i = 0; i < p.width * p.height; i++) seen.add(p.data.readUInt32BE(i * 4));
  return seen.size;
}

/**
 * Rows (from the top) in which at least `share` of the pixels between x0 and
 * x1 have the colour (within `tolerance`, the sum of channel differences):
 * where a horizontal line of that colour is drawn.
 */
export function rowsWithLine(p: Picture, color: string, x0: number, x1: number, share = 0.5, tolerance = 90): number[] {
  const rgb = hex(color);
  const rows: number[] = [];
  for (let y = 0; y < p.height; y++) {
    let hits = 0;
    for (let x = x0; x < x1; x++) if (near(p, x, y, rgb, tolerance)) hits++;
    if (hits >= (x1 - x0) * share) rows.push(y);
  }
  return rows;
}

/** Columns in which at least `share` of the pixels between y0 and y1 have the colour: where a vertical line is. */
export function columnsWithLine(p: Picture, color: string, y0: number, y1: number, share = 0.3, tolerance = 90): number[] {
  const rgb = hex(color);
  const cols: number[] = [];
  for (let x = 0; x < p.width; x++) {
    let hits = 0;
    for (let y = y0; y < y1; y++) if (near(p, x, y, rgb, tolerance)) hits++;
    if (hits >= (y1 - y0) * share) cols.push(x);
  }
  return cols;
}
