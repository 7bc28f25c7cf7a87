/**
 * Notebook display (Deno Jupyter kernel). Each call sends one MIME bundle and waits a moment:
 * the kernel can report a cell finished before its last output is sent, and nbconvert then
 * drops that output (platform notes: 4-12 per 100 without the wait, 0 of 300 with it).
 * Outside Jupyter the calls print a one-line note to stderr instead.
 */
import { Buffer } from "node:buffer";
import { type Figure, figureTitle, figureToSvg, isSvgFigure } from "./render.ts";
import { resizeSvg } from "./svg_markup.ts";
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
}

/** MIME bundle for a figure: Vega-Lite (interactive in JupyterLab) when it is one, SVG always. */
export async function figureBundle(fig: Figure, { width, height }: ShowOptions = {}): Promise<MimeBundle> {
  if (isSvgFigure(fig)) {
    return { "image/svg+xml": resizeSvg(fig, width, height), "text/plain": `[figure] ${figureTitle(fig)}` };
  }
  const spec = { ...fig, ...(width !== undefined ? { width } : {}), ...(height !== undefined ? { height } : {}) } as Figure;
  return {
    "application/vnd.vegalite.v5+json": spec,
    // nbconvert's HTML export and plain Jupyter cannot run vega: the SVG is what they show.
    "image/svg+xml": await figureToSvg(spec),
    "text/plain": `[chart] ${figureTitle(fig)}`,
  };
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

/** Markdown text (e.g. a figure caption), with an HTML paragraph for the static HTML export. */
export function markdownBundle(markdown: string): MimeBundle {
  const html = markdown
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/\*(.+?)\*/g, "<em>$1</em>")
    .split(/\n{2,}/).map((p) => `<p>${p}</p>`).join("\n");
  return { "text/markdown": markdown, "text/html": html, "text/plain": markdown };
}

/** Display markdown text in the notebook, e.g. a caption under a figure. */
export async function showMarkdown(markdown: string): Promise<void> {
  await send(markdownBundle(markdown));
}

export function imageBundle(png: Uint8Array, caption?: string): MimeBundle {
  return {
    "image/png": Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString("base64"),
    "text/plain": `[image] ${caption ?? `${png.length} byte PNG`}`,
  };
}

/** Display PNG bytes (e.g. from `overlayPng` or `svgToPng`). */
export async function showImage(png: Uint8Array, caption?: string): Promise<void> {
  await send(imageBundle(png, caption));
}
