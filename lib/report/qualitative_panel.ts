/**
 * A qualitative panel like the paper's Figure 1: one row per test image, columns RGB, depth,
 * ground truth and the anomaly map, all maps on one colour scale with a labelled colour bar, so
 * rows can be compared. Images are picked one per defect type in turn (good first), highest
 * image score first within a type.
 */
import { join, resolve } from "node:path";
import { openAnyDataset } from "../data/open.ts";
import { readImage } from "../io/images.ts";
import { readXyzTiff, zChannel } from "../io/tiff.ts";
import { readJson, RUN_FILES } from "../results/run_files.ts";
import { pickTestImages, scoredTestImages } from "./run_figures.ts";
import { colormapIndex, colormapLut, lutHex } from "../viz/colormap.ts";
import { encodePng, pngDataUri, resample, resampleImage, toRgba } from "../viz/raster.ts";
import { escapeXml, num, svgDocument } from "../viz/svg_markup.ts";

export interface PanelOptions {
  /** rows (test images) */
  count?: number;
  /** side of each square panel, px */
  panelSize?: number;
  /** what the anomaly map's colour measures (the colour bar's label) */
  mapLabel?: string;
}

/** Colour a scalar raster with a LUT; `missing` pixels (e.g. no depth) are dark grey. */
function colourise(values: Float32Array, vmin: number, vmax: number, lutName: "turbo" | "viridis", missing?: (k: number) => boolean): Uint8Array {
  const lut = colormapLut(lutName);
  const out = new Uint8Array(values.length * 4);
  for (let k = 0; k < values.length; k++) {
    const dark = missing?.(k);
    const i = colormapIndex(values[k], vmin, vmax);
    out.set(dark ? [40, 40, 40, 255] : [lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255], 4 * k);
  }
  return out;
}

/** The panel of a finished run (its record folder) as an SVG document. */
export async function qualitativePanel(runDir: string, { count = 4, panelSize = 150, mapLabel = "anomaly score (student-teacher distance)" }: PanelOptions = {}): Promise<string> {
  const { paths, defectTypes, scores, maps, side } = await scoredTestImages(runDir);
  const rec = await readJson<{ data: string; class: string }>(join(runDir, RUN_FILES.config));
  const test = new Map((await openAnyDataset(rec.data, rec.class)).test.map((s) => [resolve(s.rgbPath), s]));
  const rows = pickTestImages(defectTypes, scores, count);
  let vmax = 0;
  for (const i of rows) for (let k = 0; k < side * side; k++) vmax = Math.max(vmax, maps.data[i * side * side + k]);
  const P = panelSize, gap = 6, labelW = 110, headH = 22, barH = 44;
  const columns = ["RGB", "depth", "ground truth", "anomaly map"];
  const width = labelW + columns.length * (P + gap), height = headH + rows.length * (P + gap) + barH;
  const body: string[] = columns.map((c, j) =>
    `<text x="${num(labelW + j * (P + gap) + P / 2)}" y="15" text-anchor="middle" font-family="sans-serif" font-size="13">${escapeXml(c)}</text>`
  );
  const image = (png: Uint8Array, x: number, y: number) => `<image x="${num(x)}" y="${num(y)}" width="${P}" height="${P}" href="${pngDataUri(png)}"/>`;
  const placeholder = (text: string, x: number, y: number) =>
    `<rect x="${num(x)}" y="${num(y)}" width="${P}" height="${P}" fill="#eee"/><text x="${num(x + P / 2)}" y="${num(y + P / 2)}" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#555">${escapeXml(text)}</text>`;
  for (const [r, i] of rows.entries()) {
    const y = headH + r * (P + gap);
    const sample = test.get(resolve(paths[i]));
    body.push(`<text x="4" y="${num(y + P / 2)}" font-family="sans-serif" font-size="12">${escapeXml(defectTypes[i])}</text>`);
    body.push(`<text x="4" y="${num(y + P / 2 + 16)}" font-family="sans-serif" font-size="11" fill="#555">score ${scores[i].toFixed(3)}</text>`);
    const x = (j: number) => labelW + j * (P + gap);
    const rgb = resampleImage(await readImage(paths[i]) as Parameters<typeof resampleImage>[0], P, P);
    body.push(image(encodePng(toRgba(rgb), P, P), x(0), y));
    if (sample?.xyzPath) {
      const pm = await readXyzTiff(sample.xyzPath);
      const z = zChannel(pm);
      let lo = Infinity, hi = -Infinity;
      for (const v of z) if (v !== 0) (lo = Math.min(lo, v), hi = Math.max(hi, v));
      // near = bright: reverse the depth so raised parts read as high
      const small = resample(z.map((v) => (v === 0 ? 0 : hi - v)), pm.width, pm.height, 1, P, P);
      const valid = resample(z.map((v) => (v === 0 ? 0 : 1)), pm.width, pm.height, 1, P, P);
      body.push(image(encodePng(colourise(small.map((v, k) => (valid[k] > 0 ? v / valid[k] : 0)), 0, hi - lo, "viridis", (k) => valid[k] < 0.5), P, P), x(1), y));
    } else {
      body.push(placeholder("no depth", x(1), y));
    }
    if (sample?.maskPath) {
      const m = await readImage(sample.maskPath);
      const gray = new Uint8Array(m.width * m.height);
      for (let k = 0; k < gray.length; k++) gray[k] = m.data[k * m.channels] > 0 ? 255 : 0;
      body.push(image(encodePng(toRgba(resampleImage({ data: gray, width: m.width, height: m.height, channels: 1 }, P, P)), P, P), x(2), y));
    } else {
      body.push(placeholder(defectTypes[i] === "good" ? "normal: no defect" : "no mask", x(2), y));
    }
    const map = resample(maps.data.subarray(i * side * side, (i + 1) * side * side), side, side, 1, P, P);
    body.push(image(encodePng(colourise(map, 0, vmax, "turbo"), P, P), x(3), y));
  }
  // the colour bar of the anomaly maps, with what it measures
  const barY = headH + rows.length * (P + gap) + 4, barX = labelW + 3 * (P + gap), lut = colormapLut("turbo");
  for (let s = 0; s < 64; s++) {
    body.push(`<rect x="${num(barX + (s * P) / 64)}" y="${num(barY)}" width="${num(P / 64 + 0.5)}" height="10" fill="${lutHex(lut, Math.round((s * 255) / 63))}"/>`);
  }
  body.push(`<text x="${num(barX)}" y="${num(barY + 22)}" font-family="sans-serif" font-size="10">0</text>`);
  body.push(`<text x="${num(barX + P)}" y="${num(barY + 22)}" text-anchor="end" font-family="sans-serif" font-size="10">${vmax.toFixed(2)}</text>`);
  body.push(`<text x="${num(barX + P)}" y="${num(barY + 36)}" text-anchor="end" font-family="sans-serif" font-size="10">${escapeXml(mapLabel)}</text>`);
  body.push(`<text x="${num(labelW + P + gap)}" y="${num(barY + 22)}" font-family="sans-serif" font-size="10">depth: brighter = nearer the camera; grey = no point</text>`);
  return svgDocument(width, height, `Test images: RGB, depth, ground truth, anomaly map (${rec.class})`, body.join("\n"));
}
