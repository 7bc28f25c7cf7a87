/**
 * Figure -> SVG -> PNG. A figure is either a Vega-Lite spec (most charts) or finished SVG markup
 * (hand-built figures such as anomaly maps). Everything runs offline: data is inline in the
 * specs, and vega gets no loader, so nothing is fetched.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import { canonicalSvgIds, svgTitle } from "./svg_markup.ts";

export type VegaLiteSpec = TopLevelSpec;

/** A Vega-Lite spec, or an SVG document as a string. */
export type Figure = VegaLiteSpec | string;

export function isSvgFigure(fig: Figure): fig is string {
  return typeof fig === "string";
}

/**
 * Render a Vega-Lite spec to SVG markup with vega's headless ("none") renderer. Ids are
 * renumbered so that the same spec always gives the same bytes.
 */
export async function vegaLiteToSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return canonicalSvgIds(await view.toSVG());
  } finally {
    view.finalize(); // drop timers/listeners so Deno's test sanitizers stay quiet
  }
}

export function figureToSvg(fig: Figure): Promise<string> {
  return isSvgFigure(fig) ? Promise.resolve(fig) : vegaLiteToSvg(fig);
}

/** A short human title for a figure: the spec's title or the SVG's <title>. */
export function figureTitle(fig: Figure): string {
  if (isSvgFigure(fig)) return svgTitle(fig) ?? "figure";
  const title = (fig as { title?: unknown }).title;
  const text = typeof title === "object" && title !== null ? (title as { text?: unknown }).text : title;
  if (Array.isArray(text)) return text.join(" ");
  return typeof text === "string" && text ? text : "chart";
}

/**
 * Fonts for resvg. vega lays text out with Helvetica/Arial metrics and asks for "sans-serif";
 * Liberation Sans has Arial's metrics, so labels fit. When it is missing, resvg falls back to
 * the first system font (e.g. DejaVu Sans); with no fonts at all, text silently vanishes.
 */
const FONT_OPTIONS: NonNullable<ResvgRenderOptions["font"]> = {
  loadSystemFonts: true,
  defaultFontFamily: "Liberation Sans",
  sansSerifFamily: "Liberation Sans",
};

let textRendersCache: boolean | undefined;

/** Whether resvg can draw text on this machine (probe: render a word, look for ink). */
export function pngTextRenders(): boolean {
  if (textRendersCache === undefined) {
    const probe = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30">` +
      `<text x="4" y="22" font-family="sans-serif" font-size="20">Hg</text></svg>`;
    const pixels = new Resvg(probe, { background: "white", font: FONT_OPTIONS, logLevel: "off" }).render().pixels;
    let ink = 0;
    for (let k = 0; k < pixels.length; k += 4) if (pixels[k] < 128) ink++;
    textRendersCache = ink > 0;
  }
  return textRendersCache;
}

let warnedNoFonts = false;

export interface PngOptions {
  /** Pixel density relative to the SVG's size (2 = sharp on high-DPI screens). Default 2. */
  scale?: number;
}

/** Rasterise SVG markup to PNG bytes on a white background. */
export function svgToPng(svg: string, { scale = 2 }: PngOptions = {}): Uint8Array {
  if (!warnedNoFonts && svg.includes("<text") && !pngTextRenders()) {
    warnedNoFonts = true;
    console.warn("viz: resvg found no usable system fonts; text will be missing from PNGs (install e.g. fonts-liberation or fonts-dejavu-core)");
  }
  const png = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: FONT_OPTIONS,
    logLevel: "error",
  }).render().asPng();
  return new Uint8Array(png); // a plain copy, detached from Node's Buffer pool
}

export async function figureToPng(fig: Figure, options: PngOptions = {}): Promise<Uint8Array> {
  return svgToPng(await figureToSvg(fig), options);
}
