/**
 * Anomaly maps over their input images: `overlayPng` (raster, one per scored image for the CLI)
 * and `anomalyMapFigure` (an SVG: input | overlay panels, colour bar, ground-truth and
 * foreground contours). Rasters are embedded as PNG data URIs, so the SVG is self-contained.
 */
import * as d3 from "d3";
import { type ColormapName, colormapIndex, colormapLut, lutHex } from "./colormap.ts";
import { encodePng, pngDataUri, type RasterImage, resample, resampleImage, type ScalarMap, toRgba } from "./raster.ts";
import { attrs, escapeXml, num, svgDocument } from "./svg_markup.ts";

export interface OverlayOptions {
  /** Colour-scale range; defaults to the map's own min/max. */
  vmin?: number;
  vmax?: number;
  /** Opacity of the colour map over the image, 0..1. Default 0.5. */
  alpha?: number;
  colormap?: ColormapName;
}

/** Finite min and max of a map (0, 1 when it has no finite value). */
function finiteRange(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of data) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

function colourRange(map: ScalarMap, vmin?: number, vmax?: number): [number, number] {
  if (vmin !== undefined && vmax !== undefined) return [vmin, vmax];
  const [lo, hi] = finiteRange(map.data);
  return [vmin ?? lo, vmax ?? hi];
}

function checkMap(map: ScalarMap): void {
  if (map.data.length !== map.width * map.height) {
    throw new Error(`map data has ${map.data.length} values, expected ${map.width}x${map.height}`);
  }
}

/** Opaque RGBA at the image's size: the map, upsampled bilinearly and colour-mapped, blended over the image. */
function blendOverlay(image: RasterImage, map: ScalarMap, vmin: number, vmax: number, alpha: number, colormap: ColormapName): Uint8Array {
  checkMap(map);
  const { width, height } = image;
  const rgba = toRgba(image);
  const values = resample(map.data, map.width, map.height, 1, width, height);
  const lut = colormapLut(colormap);
  for (let k = 0; k < width * height; k++) {
    const c = 3 * colormapIndex(values[k], vmin, vmax);
    for (let ch = 0; ch < 3; ch++) rgba[4 * k + ch] = Math.round((1 - alpha) * rgba[4 * k + ch] + alpha * lut[c + ch]);
    rgba[4 * k + 3] = 255;
  }
  return rgba;
}

/** PNG (image size) of the colour-mapped anomaly map blended over the image. */
export function overlayPng(image: RasterImage, map: ScalarMap, { vmin, vmax, alpha = 0.5, colormap = "turbo" }: OverlayOptions = {}): Uint8Array {
  const [lo, hi] = colourRange(map, vmin, vmax);
  return encodePng(blendOverlay(image, map, lo, hi, alpha, colormap), image.width, image.height, { alpha: false });
}

export interface AnomalyMapOptions extends OverlayOptions {
  title?: string;
  /** Foreground mask at map resolution (non-zero = object), drawn as a dashed outline. */
  outline?: Uint8Array;
  /** Ground-truth defect mask at map resolution (> 0.5 = defect), drawn as a solid contour. */
  gtMask?: Float32Array;
  /** Longest side of each panel in px. Default 256. */
  panelSize?: number;
  /** What the colour measures, written along the colour bar. Default DEFAULT_COLOR_LABEL. */
  colorLabel?: string;
  /** A value marked across the colour bar, labelled in place of the middle tick (e.g. the threshold). */
  barMark?: { value: number; label: string };
}

/** The colour bar's label when none is given: what AST's maps hold. */
export const DEFAULT_COLOR_LABEL = "anomaly score (student-teacher distance)";

/** Rough width of 11 px sans-serif text (a little above Arial's average character). */
function textWidth11(s: string): number {
  return s.length * 6.3;
}

/** Greedy word wrap into lines no wider than `max` px (a word longer than that gets a line of its own). */
export function wrapWords(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && textWidth11(`${last} ${word}`) <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

const GT_COLOUR = "#ffffff";
const GT_HALO = "#333333";
const OUTLINE_COLOUR = "#ff00ff"; // magenta is in none of the colour maps offered

/** SVG path of the 0.5 iso-line of a mask, in panel coordinates. */
function contourPath(mask: ArrayLike<number>, map: ScalarMap, x0: number, y0: number, sx: number, sy: number): string {
  const [polygon] = d3.contours().size([map.width, map.height]).thresholds([0.5])(Array.from(mask, Number));
  const toPanel = d3.geoTransform({
    point(this: { stream: { point(x: number, y: number): void } }, x: number, y: number) {
      this.stream.point(x0 + x * sx, y0 + y * sy);
    },
  });
  return d3.geoPath(toPanel).digits(1)(polygon) ?? "";
}

/** Input and overlay panels side by side, with a colour bar and optional contours. */
export function anomalyMapFigure(image: RasterImage, map: ScalarMap, options: AnomalyMapOptions = {}): string {
  const { title = "Anomaly map", alpha = 0.5, colormap = "turbo", outline, gtMask, panelSize = 256, colorLabel = DEFAULT_COLOR_LABEL } = options;
  checkMap(map);
  for (const [name, mask] of [["outline", outline], ["gtMask", gtMask]] as const) {
    if (mask && mask.length !== map.width * map.height) {
      throw new Error(`${name} has ${mask.length} values, expected the map's ${map.width}x${map.height}`);
    }
  }
  const [vmin, vmax] = colourRange(map, options.vmin, options.vmax);
  const mapMax = finiteRange(map.data)[1];

  // Panel geometry; rasters are embedded at 2x the panel size (sharp at PNG scale 2), never above native.
  const fit = panelSize / Math.max(image.width, image.height);
  const pw = Math.round(image.width * fit), ph = Math.round(image.height * fit);
  const embed = Math.min(1, (2 * panelSize) / Math.max(image.width, image.height));
  const small = resampleImage(image, Math.max(1, Math.round(image.width * embed)), Math.max(1, Math.round(image.height * embed)));
  const inputUri = pngDataUri(encodePng(toRgba(small), small.width, small.height, { alpha: false }));
  const overlayUri = pngDataUri(encodePng(blendOverlay(small, map, vmin, vmax, alpha, colormap), small.width, small.height, { alpha: false }));

  const margin = 12, gap = 16, top = 52;
  const left1 = margin, left2 = margin + pw + gap;
  const barX = left2 + pw + gap, barW = 12;
  const fmt = d3.format(".3~g");
  const { barMark } = options;
  const markT = barMark && vmax > vmin ? Math.min(1, Math.max(0, (barMark.value - vmin) / (vmax - vmin))) : null;
  const ticks = [fmt(vmax), barMark && markT !== null ? `${fmt(barMark.value)} ${barMark.label}` : fmt((vmin + vmax) / 2), fmt(vmin)];
  // The colour bar's label reads bottom to top beside the tick values, wrapped to the bar's height.
  const labelLines = colorLabel ? wrapWords(colorLabel, ph) : [];
  const labelX = barX + barW + 4 + Math.max(...ticks.map(textWidth11)) + 8;
  const lineStep = 14;
  const width = Math.ceil(Math.max(barX + barW + 56, labelX + labelLines.length * lineStep + 4));
  const hasLegend = Boolean(gtMask || outline);
  const height = top + ph + (hasLegend ? 30 : margin);

  const text = (x: number, y: number, s: string, extra: Record<string, string | number> = {}) =>
    `<text ${attrs({ x, y, "font-family": "sans-serif", "font-size": 11, fill: "#222222", ...extra })}>${escapeXml(s)}</text>`;
  const image_ = (x: number, uri: string) =>
    `<image ${attrs({ x, y: top, width: pw, height: ph, preserveAspectRatio: "none" })} xlink:href="${uri}"/>`;

  const parts: string[] = [
    text(margin, 20, title, { "font-size": 14, "font-weight": "bold" }),
    text(left1, top - 8, "input"),
    text(left2, top - 8, `anomaly map (max ${d3.format(".3~g")(mapMax)})`),
    image_(left1, inputUri),
    image_(left2, overlayUri),
  ];

  const sx = pw / map.width, sy = ph / map.height;
  if (outline) {
    parts.push(`<path ${attrs({ d: contourPath(outline, map, left2, top, sx, sy), fill: "none", stroke: OUTLINE_COLOUR, "stroke-width": 1.2, "stroke-dasharray": "4 3" })}/>`);
  }
  if (gtMask) {
    // White on a dark halo: visible on bright and dark images alike.
    const d = contourPath(gtMask, map, left2, top, sx, sy);
    parts.push(`<path ${attrs({ d, fill: "none", stroke: GT_HALO, "stroke-width": 3.5, "stroke-opacity": 0.7 })}/>`);
    parts.push(`<path ${attrs({ d, fill: "none", stroke: GT_COLOUR, "stroke-width": 1.5 })}/>`);
  }

  // Colour bar: a vertical gradient, vmax at the top.
  const lut = colormapLut(colormap);
  const stops = d3.range(17).map((i: number) => {
    const t = i / 16;
    return `<stop offset="${num(t, 4)}" stop-color="${lutHex(lut, Math.round(t * 255))}"/>`;
  });
  parts.push(
    `<defs><linearGradient id="colorbar" x1="0" y1="1" x2="0" y2="0">${stops.join("")}</linearGradient></defs>`,
    `<rect ${attrs({ x: barX, y: top, width: barW, height: ph, fill: "url(#colorbar)", stroke: "#666666", "stroke-width": 0.5 })}/>`,
    text(barX + barW + 4, top + 9, ticks[0]),
    text(barX + barW + 4, top + ph * (markT === null ? 0.5 : 1 - markT) + 4, ticks[1]),
    text(barX + barW + 4, top + ph, ticks[2]),
  );
  if (markT !== null) {
    const y = top + ph * (1 - markT);
    parts.push(`<line ${attrs({ x1: barX - 3, y1: y, x2: barX + barW + 3, y2: y, stroke: "#222222", "stroke-width": 1.5, class: "colorbar-mark" })}/>`);
  }
  labelLines.forEach((line, i) => {
    const x = labelX + 10 + i * lineStep, y = top + ph / 2;
    parts.push(text(x, y, line, { "text-anchor": "middle", transform: `rotate(-90 ${num(x)} ${num(y)})`, class: "colorbar-label" }));
  });

  if (hasLegend) {
    const y = top + ph + 18;
    let x = left2;
    if (gtMask) {
      parts.push(`<line ${attrs({ x1: x, y1: y - 4, x2: x + 18, y2: y - 4, stroke: GT_HALO, "stroke-width": 3.5, "stroke-opacity": 0.7 })}/>`);
      parts.push(`<line ${attrs({ x1: x, y1: y - 4, x2: x + 18, y2: y - 4, stroke: GT_COLOUR, "stroke-width": 1.5 })}/>`);
      parts.push(text(x + 22, y, "ground truth"));
      x += 110;
    }
    if (outline) {
      parts.push(`<line ${attrs({ x1: x, y1: y - 4, x2: x + 18, y2: y - 4, stroke: OUTLINE_COLOUR, "stroke-width": 1.2, "stroke-dasharray": "4 3" })}/>`);
      parts.push(text(x + 22, y, "foreground"));
    }
  }
  return svgDocument(width, height, title, parts.join("\n"));
}
