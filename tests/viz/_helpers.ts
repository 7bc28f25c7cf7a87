/** Helpers for the viz tests: decode PNGs and measure how much was drawn; count SVG marks. */
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";

export interface DecodedRgba {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeRgba(png: Uint8Array): DecodedRgba {
  const img = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return { width: img.width, height: img.height, data: new Uint8Array(img.data) };
}

/** Fraction of pixels that are not (near) white, and the variance of the grey level. */
export function inkStats(img: DecodedRgba): { nonWhite: number; variance: number } {
  const n = img.width * img.height;
  let nonWhite = 0, sum = 0, sumSq = 0;
  for (let k = 0; k < n; k++) {
    const grey = (img.data[4 * k] + img.data[4 * k + 1] + img.data[4 * k + 2]) / 3;
    if (grey < 245) nonWhite++;
    sum += grey;
    sumSq += grey * grey;
  }
  const mean = sum / n;
  return { nonWhite: nonWhite / n, variance: sumSq / n - mean * mean };
}

export function pixel(img: DecodedRgba, x: number, y: number): [number, number, number, number] {
  const i = 4 * (y * img.width + x);
  return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
}

/** Occurrences of a literal substring. */
export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/**
 * Items drawn by vega marks of one type ("rule", "line", "rect", "symbol", "text"...): the leaf
 * elements inside every `<g class="mark-<type> role-mark ...">` container (empty ones self-close).
 */
export function vegaItems(svg: string, markType: string): number {
  const containers = new RegExp(`<g class="mark-${markType} role-mark[^"]*"[^>]*?(?:/>|>([\\s\\S]*?)</g>)`, "g");
  let items = 0;
  for (const m of svg.matchAll(containers)) items += (m[1] ?? "").match(/<(path|line|rect|text|image)\b/g)?.length ?? 0;
  return items;
}
