/**
 * Notebook display (Deno Jupyter kernel). Each call sends one MIME bundle and waits a moment:
 * the kernel can report a cell finished before its last output is sent, and nbconvert then
 * drops that output (platform notes: 4-12 per 100 without the wait, 0 of 300 with it).
 * Outside Jupyter the calls print a one-line note to stderr instead.
 */
import { Buffer } from "node:buffer";
import { type Figure, figureTitle, figureToSvg, isSvgFigure } from "./render.ts";
import { escapeXml, resizeSvg } from "./svg_markup.ts";
import { buildTable, type DataFrameLike, type TableOptions, tableToHtml, tableToMarkdown, tableToText, type TableRow } from "./table.ts";

export type MimeBundle = Record<string, unknown>;
type DisplayFn = (bundle: MimeBundle, options: { raw: true }) => Promise<void>;

const SETTLE_MS = 15;

/** Jupyter's display function, or null outside the kernel (where reading Deno.jupyter throws). */
function jupyterDisplay(): DisplayFn | null {
  try {
    const jupyter = (Deno as unknown as { jupyter?: { display?: DisplayFn } }).jupyter;
    return typeof jupyter?.display === "function" ? jupyter.display.bind(jupyter) : null;
  } catch {
    return null;
  }
}

export function inJupyter(): boolean {
  return jupyterDisplay() !== null;
}

async function send(bundle: MimeBundle): Promise<void> {
  const display = jupyterDisplay();
  if (!display) {
    console.error(`[viz] not in Jupyter, nothing displayed: ${String(bundle["text/plain"]).split("\n")[0]}`);
    return;
  }
  await display(bundle, { raw: true });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

export interface ShowOptions {
  width?: number;
  height?: number;
  /** A caption shown under the figure (sent as text/html `<figure>…<figcaption>`). */
  caption?: string;
}

/**
 * `<figure>` with the image (inline SVG markup or an `<img>`) and a visible caption: text/plain
 * is not shown where an image is, so a caption there alone is lost in JupyterLab and the HTML.
 */
export function captionedHtml(image: string, caption: string): string {
  return `<figure class="ast-figure" style="margin:0">${image}` +
    `<figcaption style="font-size:0.9em;color:#333;margin:4px 0 0">${escapeXml(caption)}</figcaption></figure>`;
}

/**
 * MIME bundle for a figure: Vega-Lite (interactive in JupyterLab) when it is one, SVG always,
 * and with a caption also text/html (the SVG inline in a `<figure>` under its caption).
 */
export async function figureBundle(fig: Figure, { width, height, caption }: ShowOptions = {}): Promise<MimeBundle> {
  const withCaption = (bundle: MimeBundle): MimeBundle =>
    caption ? { ...bundle, "text/html": captionedHtml(String(bundle["image/svg+xml"]), caption), "text/plain": `${bundle["text/plain"]}: ${caption}` } : bundle;
  if (isSvgFigure(fig)) {
    return withCaption({ "image/svg+xml": resizeSvg(fig, width, height), "text/plain": `[figure] ${figureTitle(fig)}` });
  }
  const spec = { ...fig, ...(width !== undefined ? { width } : {}), ...(height !== undefined ? { height } : {}) } as Figure;
  return withCaption({
    "application/vnd.vegalite.v5+json": spec,
    // nbconvert's HTML export and plain Jupyter cannot run vega: the SVG is what they show.
    "image/svg+xml": await figureToSvg(spec),
    "text/plain": `[chart] ${figureTitle(fig)}`,
  });
}

/** Display a figure in the notebook. `width`/`height` resize it (Vega-Lite: the plot area). */
export async function show(fig: Figure, options: ShowOptions = {}): Promise<void> {
  await send(await figureBundle(fig, options));
}

export function tableBundle(data: TableRow[] | DataFrameLike, options: TableOptions = {}): MimeBundle {
  const table = buildTable(data, options);
  return { "text/html": tableToHtml(table), "text/markdown": tableToMarkdown(table), "text/plain": tableToText(table) };
}

/** Display rows (objects) or a nodejs-polars DataFrame as a table. */
export async function showTable(data: TableRow[] | DataFrameLike, options: TableOptions = {}): Promise<void> {
  await send(tableBundle(data, options));
}

/**
 * Markdown text (a caption, generated prose). No text/html beside it: the HTML export renders
 * text/markdown itself (headings, lists, code), which a hand-made HTML version would flatten.
 */
export function markdownBundle(markdown: string): MimeBundle {
  return { "text/markdown": markdown, "text/plain": markdown };
}

/** Display markdown text in the notebook, e.g. a caption under a figure. */
export async function showMarkdown(markdown: string): Promise<void> {
  await send(markdownBundle(markdown));
}

/**
 * MIME bundle for PNG bytes. With a caption also text/html: the image in a `<figure>` with the
 * caption under it (what JupyterLab and the HTML export show; text/plain alone stays invisible).
 */
export function imageBundle(png: Uint8Array, caption?: string): MimeBundle {
  const base64 = Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString("base64");
  return {
    ...(caption ? { "text/html": captionedHtml(`<img src="data:image/png;base64,${base64}" alt="${escapeXml(caption)}"/>`, caption) } : {}),
    "image/png": base64,
    "text/plain": `[image] ${caption ?? `${png.length} byte PNG`}`,
  };
}

/** Display PNG bytes (e.g. from `overlayPng` or `svgToPng`), with an optional visible caption. */
export async function showImage(png: Uint8Array, caption?: string): Promise<void> {
  await send(imageBundle(png, caption));
}
