import { assert, assertEquals, assertThrows } from "../assert.ts";
import { anomalyMapFigure, overlayPng } from "../../lib/viz/anomaly_map.ts";
import { resample } from "../../lib/viz/raster.ts";
import { svgToPng } from "../../lib/viz/render.ts";
import { svgSize } from "../../lib/viz/svg_markup.ts";
import { count, decodeRgba, inkStats, pixel } from "./_helpers.ts";

/** Grey 64x48 image; an 8x6 map that is hot (1) in its right half and cold (0.1) in its left. */
function scene() {
  const image = { data: new Uint8Array(64 * 48 * 3).fill(128), width: 64, height: 48, channels: 3 as const };
  const map = { data: new Float32Array(8 * 6).map((_, i) => (i % 8 >= 4 ? 1 : 0.1)), width: 8, height: 6 };
  return { image, map };
}

Deno.test("resample: constants stay constant; shrinking averages; enlarging interpolates", () => {
  assert(resample(new Float32Array(12).fill(3), 4, 3, 1, 7, 5).every((v) => Math.abs(v - 3) < 1e-6));
  assertEquals(Array.from(resample([0, 2, 4, 6], 4, 1, 1, 2, 1)).map((v) => +v.toFixed(4)), [1.4286, 4.5714]); // taps .75 .75 .25 (/1.75)
  assertEquals(Array.from(resample([0, 4], 2, 1, 1, 4, 1)), [0, 1, 3, 4]); // bilinear, half-pixel centres
});

Deno.test("overlayPng: image-sized PNG; hot half red-ish, cold half blue-ish, grey shows through", () => {
  const { image, map } = scene();
  const img = decodeRgba(overlayPng(image, map, { alpha: 0.6, vmin: 0, vmax: 1 }));
  assertEquals([img.width, img.height], [64, 48]);
  const [hr, , hb, ha] = pixel(img, 60, 24);
  const [cr, , cb] = pixel(img, 3, 24);
  assert(hr > hb + 40, `hot pixel ${pixel(img, 60, 24)}`);
  assert(cb > cr + 20, `cold pixel ${pixel(img, 3, 24)}`);
  assertEquals(ha, 255);
  const clear = decodeRgba(overlayPng(image, map, { alpha: 0 }));
  assertEquals(pixel(clear, 60, 24), [128, 128, 128, 255]);
  // Default range = the map's min..max; a range above every value gives both halves the coldest colour.
  assertEquals(pixel(decodeRgba(overlayPng(image, map)), 3, 24), pixel(decodeRgba(overlayPng(image, map, { vmin: 0.1, vmax: 1 })), 3, 24));
  const flat = decodeRgba(overlayPng(image, map, { vmin: 2, vmax: 3 }));
  assertEquals(pixel(flat, 60, 24), pixel(flat, 3, 24));
});

Deno.test("anomalyMapFigure: two embedded rasters, colour bar with range, contours, legend", () => {
  const { image, map } = scene();
  const gt = new Float32Array(48).map((_, i) => (i % 8 >= 5 && Math.floor(i / 8) >= 2 && Math.floor(i / 8) <= 3 ? 1 : 0));
  const fg = new Uint8Array(48).fill(1, 8, 40);
  const svg = anomalyMapFigure(image, map, { title: "bottle 003", gtMask: gt, outline: fg, vmin: 0, vmax: 2 });
  assertEquals(count(svg, "data:image/png;base64,"), 2);
  assertEquals(count(svg, "<stop "), 17);
  assert(svg.includes("<title>bottle 003</title>") && svg.includes(">ground truth</text>") && svg.includes(">foreground</text>"));
  assert(svg.includes(">2</text>") && svg.includes(">0</text>") && svg.includes(">1</text>"), "colour-bar labels vmax, vmin, mid");
  // what the colour measures, along the bar (wrapped to the bar's height)
  const lines = (s: string) => [...s.matchAll(/class="colorbar-label">([^<]*)</g)].map((m) => m[1]);
  assertEquals(lines(svg).join(" "), "anomaly score (student-teacher distance)", "default colour-bar label");
  const small = anomalyMapFigure(image, map, { panelSize: 160, colorLabel: "teacher negative log-likelihood per pixel" });
  assertEquals(lines(small), ["teacher negative", "log-likelihood per", "pixel"]);
  assert(!anomalyMapFigure(image, map, { colorLabel: "" }).includes("colorbar-label"));
  assertEquals(count(svg, 'stroke="#ffffff"'), 2); // GT contour + its legend swatch
  assertEquals(count(svg, 'stroke="#ff00ff"'), 2); // foreground outline + swatch
  assert(/<path d="M[\d.]+,[\d.]+L/.test(svg), "contour path has coordinates");
  assertEquals(anomalyMapFigure(image, map, { title: "bottle 003", gtMask: gt, outline: fg, vmin: 0, vmax: 2 }), svg);

  const plain = anomalyMapFigure(image, map);
  assertEquals(count(plain, "<path "), 0);
  assert(!plain.includes("ground truth"));
  assertThrows(() => anomalyMapFigure(image, map, { gtMask: new Float32Array(5) }), /gtMask has 5 values/);
});

Deno.test("anomalyMapFigure renders to a non-blank PNG of the declared size", () => {
  const { image, map } = scene();
  const svg = anomalyMapFigure(image, map);
  const { width, height } = svgSize(svg);
  const img = decodeRgba(svgToPng(svg, { scale: 1 }));
  assertEquals([img.width, img.height], [width, height]);
  const ink = inkStats(img);
  assert(ink.nonWhite > 0.3 && ink.variance > 100, JSON.stringify(ink));
});
