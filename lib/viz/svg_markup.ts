/**
 * String helpers for hand-built SVG (the d3-style figures): d3 runs without a DOM when we only
 * use its scales/shapes and write the markup ourselves, which also keeps output byte-stable.
 */

/** Escape text for use in XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Fixed-precision coordinate: short, and identical across runs for identical input. */
export function num(value: number, decimals = 2): string {
  const s = value.toFixed(decimals);
  // Trim trailing zeros ("12.50" -> "12.5", "3.00" -> "3"); "-0" -> "0".
  const trimmed = s.includes(".") ? s.replace(/\.?0+$/, "") : s;
  return trimmed === "-0" ? "0" : trimmed;
}

/** Attribute list from an object; undefined values are skipped, keys keep their order. */
export function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${typeof v === "number" ? num(v) : escapeXml(v as string)}"`)
    .join(" ");
}

/** A complete SVG document with a white background and an accessible <title>. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" ` +
    `width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${num(width)}" height="${num(height)}" fill="white"/>`,
    body,
    `</svg>`,
  ].join("\n");
}

const ROOT_TAG = /<svg\b[^>]*>/;

/** Width and height (in px) declared on the root <svg> element. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = svg.match(ROOT_TAG)?.[0];
  if (!root) throw new Error("not an SVG document: no <svg> root element");
  const width = Number(root.match(/\swidth="([\d.]+)(px)?"/)?.[1]);
  const height = Number(root.match(/\sheight="([\d.]+)(px)?"/)?.[1]);
  if (!(width > 0 && height > 0)) throw new Error("SVG root element has no numeric width/height");
  return { width, height };
}

/**
 * Change the displayed size of an SVG (the viewBox keeps the drawing scaled, not cropped). With
 * only one dimension given, the other follows the aspect ratio.
 */
export function resizeSvg(svg: string, width?: number, height?: number): string {
  if (width === undefined && height === undefined) return svg;
  const size = svgSize(svg);
  const w = width ?? (size.width * height!) / size.height;
  const h = height ?? (size.height * width!) / size.width;
  return svg.replace(ROOT_TAG, (root) => {
    let out = root;
    if (!/\sviewBox=/.test(out)) out = out.replace(/^<svg\b/, `<svg viewBox="0 0 ${num(size.width)} ${num(size.height)}"`);
    return out.replace(/\swidth="[^"]*"/, ` width="${num(w)}"`).replace(/\sheight="[^"]*"/, ` height="${num(h)}"`);
  });
}

/** Rename every id in an SVG together with its references (url(#id), href="#id"), in one pass. */
export function renameSvgIds(svg: string, rename: (id: string, index: number) => string): string {
  const names = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!names.has(m[1])) names.set(m[1], rename(m[1], names.size));
  if (names.size === 0) return svg;
  const swap = (whole: string, id: string, build: (name: string) => string) => (names.has(id) ? build(names.get(id)!) : whole);
  return svg.replace(/(\sid=")([^"]+)"|url\(#([^)]+)\)|(\s(?:xlink:)?href=")#([^"]+)"/g, (whole, idHead, id, urlId, hrefHead, hrefId) => {
    if (id !== undefined) return swap(whole, id, (n) => `${idHead}${n}"`);
    if (urlId !== undefined) return swap(whole, urlId, (n) => `url(#${n})`);
    return swap(whole, hrefId, (n) => `${hrefHead}#${n}"`);
  });
}

/**
 * Prefix every id, so several documents can be nested in one SVG without their clip paths or
 * gradients colliding.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  return renameSvgIds(svg, (id) => prefix + id);
}

/**
 * Number ids by first appearance ("clip7" -> "clip1"): vega takes clip-path numbers from a
 * process-wide counter, so without this a chart's SVG depends on what was rendered before it.
 */
export function canonicalSvgIds(svg: string): string {
  // The stem never ends in a digit, so stem + (index + 1) stays unique.
  return renameSvgIds(svg, (id, index) => `${id.replace(/\d+$/, "")}${index + 1}`);
}

/** The text of the root <title> element, if any. */
export function svgTitle(svg: string): string | undefined {
  const m = svg.match(/<title>([^<]*)<\/title>/);
  return m ? m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&") : undefined;
}
