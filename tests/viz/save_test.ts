import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { saveFigure } from "../../lib/viz/save.ts";
import { gridFigure } from "../../lib/viz/grid.ts";
import { anomalyMapFigure } from "../../lib/viz/anomaly_map.ts";
import { barChart, lineChart } from "../../lib/viz/charts.ts";
import { svgToPng } from "../../lib/viz/render.ts";
import { svgSize } from "../../lib/viz/svg_markup.ts";
import { count, decodeRgba, inkStats } from "./_helpers.ts";

Deno.test("saveFigure: .svg and .png in a new nested folder, no temp files left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "viz-save-" });
  try {
    const fig = lineChart([{ name: "s", x: [0, 1, 2], y: [1, 3, 2] }], { title: "saved" });
    const paths = await saveFigure(fig, join(dir, "a", "b", "chart"), { scale: 1 });
    assertEquals(paths, { svg: join(dir, "a", "b", "chart.svg"), png: join(dir, "a", "b", "chart.png") });
    const svg = await Deno.readTextFile(paths.svg);
    assert(svg.startsWith("<svg") && svg.includes(">saved</text>"));
    const png = decodeRgba(await Deno.readFile(paths.png));
    const size = svgSize(svg);
    assertEquals([png.width, png.height], [size.width, size.height]);
    assert(inkStats(png).nonWhite > 0.02);
    assertEquals([...Deno.readDirSync(join(dir, "a", "b"))].map((e) => e.name).sort(), ["chart.png", "chart.svg"]);
    await saveFigure(fig, join(dir, "a", "b", "chart")); // overwriting is fine
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gridFigure: tiles figures, keeps ids unique, renders", async () => {
  const image = { data: new Uint8Array(16 * 16).fill(90), width: 16, height: 16, channels: 1 as const };
  const map = { data: new Float32Array(16).map((_, i) => i), width: 4, height: 4 };
  const bar = barChart([{ group: "g", name: "a", value: 1 }]);
  const grid = await gridFigure([bar, anomalyMapFigure(image, map), anomalyMapFigure(image, map)], { columns: 2, title: "three" });
  const ids = [...grid.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert(ids.length >= 2);
  assertEquals(new Set(ids).size, ids.length);
  assertEquals(count(grid, 'fill="url(#g1-colorbar)"') + count(grid, 'fill="url(#g2-colorbar)"'), 2);
  assertEquals(count(grid, "<svg "), 4);
  const { width, height } = svgSize(grid);
  const img = decodeRgba(svgToPng(grid, { scale: 1 }));
  assertEquals([img.width, img.height], [width, height]);
  assert(inkStats(img).nonWhite > 0.1);
});
