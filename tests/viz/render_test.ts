import { assert, assertEquals, assertThrows } from "../assert.ts";
import { figureTitle, figureToSvg, pngTextRenders, svgToPng, vegaLiteToSvg } from "../../lib/viz/render.ts";
import { canonicalSvgIds, prefixSvgIds, resizeSvg, svgSize } from "../../lib/viz/svg_markup.ts";
import type { VegaLiteSpec } from "../../lib/viz/render.ts";
import { decodeRgba, inkStats, vegaItems } from "./_helpers.ts";

const points: VegaLiteSpec = {
  title: "three points",
  width: 200,
  height: 100,
  data: { values: [{ x: 1, y: 1 }, { x: 2, y: 3 }, { x: 3, y: 2 }] },
  mark: "point",
  encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
};

Deno.test("vegaLiteToSvg: one symbol per row, titled, sized; same spec -> same bytes", async () => {
  const svg = await vegaLiteToSvg(points);
  assert(svg.startsWith("<svg"), svg.slice(0, 40));
  assertEquals(vegaItems(svg, "symbol"), 3);
  assert(svg.includes(">three points</text>"));
  const { width, height } = svgSize(svg);
  assert(width > 200 && height > 100, `${width}x${height} should include axes around the 200x100 plot`);
  assertEquals(await vegaLiteToSvg(points), svg);
});

Deno.test("vegaLiteToSvg: bytes do not depend on what was rendered before (vega's clip-id counter)", async () => {
  const clipped: VegaLiteSpec = { ...points, mark: { type: "point", clip: true } } as VegaLiteSpec;
  const first = await vegaLiteToSvg(clipped);
  await vegaLiteToSvg(clipped);
  await vegaLiteToSvg(points);
  const later = await vegaLiteToSvg(clipped);
  assert(first.includes('id="clip1"') && first.includes("url(#clip1)"), "vega emitted a clip path");
  assertEquals(later, first);
});

Deno.test("figureToSvg passes SVG figures through; figureTitle reads spec or <title>", async () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>a &amp; b</title></svg>`;
  assertEquals(await figureToSvg(svg), svg);
  assertEquals(figureTitle(svg), "a & b");
  assertEquals(figureTitle(points), "three points");
  assertEquals(figureTitle({ ...points, title: { text: "t", subtitle: "s" } } as VegaLiteSpec), "t");
});

Deno.test("svgToPng: white background, scaled size, something drawn", async () => {
  const svg = await vegaLiteToSvg(points);
  const { width, height } = svgSize(svg);
  const img = decodeRgba(svgToPng(svg, { scale: 2 }));
  assertEquals([img.width, img.height], [Math.round(2 * width), Math.round(2 * height)]);
  assertEquals([img.data[0], img.data[1], img.data[2], img.data[3]], [255, 255, 255, 255]); // corner: background
  const ink = inkStats(img);
  assert(ink.variance > 0 && ink.nonWhite > 0.005 && ink.nonWhite < 0.5, JSON.stringify(ink));
});

const FONTS = pngTextRenders();
if (!FONTS) console.warn("SKIP: resvg finds no system fonts here, so PNG text cannot render (install fonts-liberation)");

Deno.test({
  name: "svgToPng draws text (system fonts load)",
  ignore: !FONTS,
  fn() {
    const text = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><text x="4" y="22" font-family="sans-serif" font-size="18">AUROC 0.98</text></svg>`;
    const blank = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"></svg>`;
    assert(inkStats(decodeRgba(svgToPng(text, { scale: 1 }))).nonWhite > 0.03);
    assertEquals(inkStats(decodeRgba(svgToPng(blank, { scale: 1 }))).nonWhite, 0);
  },
});

Deno.test("resizeSvg keeps the aspect ratio; prefixSvgIds rewrites ids and references only", () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">` +
    `<clipPath id="clip1"><rect width="5" height="5"/></clipPath><g clip-path="url(#clip1)" fill="url(#other)"/></svg>`;
  assertEquals(svgSize(resizeSvg(svg, 100)), { width: 100, height: 50 });
  assert(resizeSvg(svg, 100).includes(`viewBox="0 0 200 100"`));
  const prefixed = prefixSvgIds(svg, "p-");
  assert(prefixed.includes(`id="p-clip1"`) && prefixed.includes(`url(#p-clip1)`) && prefixed.includes(`url(#other)`));
  assertEquals(canonicalSvgIds(`<g id="clip9"/><g id="clip4" fill="url(#clip9)"/><use href="#clip4"/>`), `<g id="clip1"/><g id="clip2" fill="url(#clip1)"/><use href="#clip2"/>`);
  assertThrows(() => svgSize("<div/>"), /no <svg> root/);
});
