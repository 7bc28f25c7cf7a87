import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import { assert, assertEquals } from "../../assert.ts";
import { blankReason, pixelStats, svgMarks, topLevelSvgs } from "../../../tools/notebooks/chromium.ts";
import { VEGA_SVG, VEGA_SVG_EMPTY } from "./_notebooks.ts";

Deno.test("topLevelSvgs finds each outer <svg>, nested ones inside their parent", () => {
  const html = `<p>a</p><svg width="1"><g><svg><rect/></svg></g></svg><div><svg class="b"/></div><SVG><circle r="1"/></SVG>`;
  const svgs = topLevelSvgs(html);
  assertEquals(svgs.length, 3);
  assert(svgs[0].startsWith(`<svg width="1">`) && svgs[0].endsWith("</svg></g></svg>"), svgs[0]);
  assertEquals(svgs[1], `<svg class="b"/>`);
  assertEquals(topLevelSvgs("<div>no charts</div>"), []);
});

Deno.test("svgMarks: a Vega chart needs elements in a data-mark group", () => {
  assertEquals(svgMarks(VEGA_SVG), { kind: "vega", marks: 1, ok: true });
  // axes and background are drawn even with no data: not enough
  assertEquals(svgMarks(VEGA_SVG_EMPTY), { kind: "vega", marks: 0, ok: false });
});

Deno.test("svgMarks: other SVG needs a drawn shape beyond a background rect", () => {
  assert(svgMarks(`<svg><circle cx="1" cy="1" r="1"/></svg>`).ok);
  assert(svgMarks(`<svg><image href="data:image/png;base64,AA" width="4" height="4"/></svg>`).ok);
  assert(svgMarks(`<svg><rect width="9" height="9"/><rect x="1" width="2" height="3"/></svg>`).ok);
  assert(!svgMarks(`<svg><rect width="9" height="9" fill="white"/></svg>`).ok);
  // what lxml's clean_html leaves of a chart: text only
  assert(!svgMarks(`<svg class="marks" width="116" height="345">123x0.00.51.0y</svg>`).ok);
});

function png(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Uint8Array {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * width + x) * 4;
      img.data[i] = r, img.data[i + 1] = g, img.data[i + 2] = b, img.data[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(img) as Buffer);
}

Deno.test("pixelStats: a blank page is blank, a drawn one is not", () => {
  const blank = pixelStats(png(200, 100, () => [255, 255, 255]));
  assertEquals(blank, { width: 200, height: 100, drawn: 0, extentRows: 0, drawnFraction: 0, colours: 1 });
  assert(blankReason(blank)?.startsWith("screenshot looks blank: 0 drawn pixels"));

  // off-white background with a gradient bar in the top rows: the background is the most common colour
  const drawn = pixelStats(png(200, 100, (x, y) => (y < 20 && x < 100 ? [x, 100, 255 - x] : [250, 250, 250])));
  assertEquals([drawn.drawn, drawn.extentRows, drawn.drawnFraction, drawn.colours], [2000, 20, 0.5, 101]);
  assertEquals(blankReason(drawn), null);

  // a few dots in two colours: drawn, but too little and too plain to be a page
  const dots = pixelStats(png(200, 100, (x, y) => (x % 50 === 0 && y % 10 === 0 ? [0, 0, x] : [255, 255, 255])));
  assert(blankReason(dots) !== null);
});
