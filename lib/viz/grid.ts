/** Several figures tiled into one SVG (e.g. a row of anomaly maps, or charts side by side). */
import { type Figure, figureToSvg } from "./render.ts";
import { escapeXml, num, prefixSvgIds, svgDocument, svgSize } from "./svg_markup.ts";

export interface GridOptions {
  columns?: number;
  gap?: number;
  title?: string;
}

/** Row-major grid; each cell is as large as the largest figure in its column / row. */
export async function gridFigure(figs: Figure[], { columns = 2, gap = 12, title }: GridOptions = {}): Promise<string> {
  if (!(Number.isInteger(columns) && columns > 0)) throw new Error(`columns must be a positive integer, got ${columns}`);
  const svgs = await Promise.all(figs.map(figureToSvg));
  const sizes = svgs.map(svgSize);
  const rows = Math.ceil(svgs.length / columns);
  const colWidth = Array.from({ length: columns }, (_, c) => Math.max(0, ...sizes.filter((_, i) => i % columns === c).map((s) => s.width)));
  const rowHeight = Array.from({ length: rows }, (_, r) => Math.max(0, ...sizes.slice(r * columns, (r + 1) * columns).map((s) => s.height)));
  const top = title ? 28 : 0;

  const cells = svgs.map((svg, i) => {
    const c = i % columns, r = Math.floor(i / columns);
    const x = colWidth.slice(0, c).reduce((a, b) => a + b + gap, 0);
    const y = top + rowHeight.slice(0, r).reduce((a, b) => a + b + gap, 0);
    // Ids must be unique in the combined document (vega numbers clip paths per view).
    const body = prefixSvgIds(svg.replace(/^<\?xml[^>]*>\s*/, ""), `g${i}-`);
    return body.replace(/^<svg\b/, `<svg x="${num(x)}" y="${num(y)}"`);
  });
  const width = colWidth.reduce((a, b) => a + b, 0) + gap * (columns - 1);
  const height = top + rowHeight.reduce((a, b) => a + b, 0) + gap * Math.max(0, rows - 1);
  const heading = title
    ? `<text x="4" y="19" font-family="sans-serif" font-size="14" font-weight="bold" fill="#222222">${escapeXml(title)}</text>\n`
    : "";
  return svgDocument(width, height, title ?? `grid of ${figs.length} figures`, heading + cells.join("\n"));
}
