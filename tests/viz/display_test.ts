import { assert, assertEquals } from "../assert.ts";
import pl from "nodejs-polars";
import { figureBundle, imageBundle, inJupyter, show, showImage, showTable, tableBundle } from "../../lib/viz/display.ts";
import { buildTable, formatCell } from "../../lib/viz/table.ts";
import { rocChart } from "../../lib/viz/charts.ts";
import { svgSize } from "../../lib/viz/svg_markup.ts";

const chart = rocChart([{ name: "a", fpr: [0, 0.2, 1], tpr: [0, 0.8, 1] }], { title: "ROC a" });
const svgFigure = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20"><title>tiny</title></svg>`;

Deno.test("figureBundle: Vega-Lite + SVG + title for specs; SVG + title for SVG figures", async () => {
  const vl = await figureBundle(chart);
  assertEquals(Object.keys(vl).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
  assertEquals(vl["text/plain"], "[chart] ROC a");
  assert(String(vl["image/svg+xml"]).startsWith("<svg"));
  const resized = await figureBundle(chart, { width: 200 });
  assertEquals((resized["application/vnd.vegalite.v5+json"] as { width: number }).width, 200);
  assertEquals((chart as { width?: number }).width, 400, "the caller's spec is not modified");

  const raw = await figureBundle(svgFigure, { width: 80 });
  assertEquals(Object.keys(raw).sort(), ["image/svg+xml", "text/plain"]);
  assertEquals(svgSize(String(raw["image/svg+xml"])), { width: 80, height: 40 });
  assertEquals(raw["text/plain"], "[figure] tiny");
});

Deno.test("tables: rows and polars DataFrames -> HTML / Markdown / text, numbers to `digits`", () => {
  const rows = [{ cls: "bottle", auroc: 0.987654, n: 20 }, { cls: "a|b <x>", auroc: 1e-9, extra: null }];
  const t = buildTable(rows, { digits: 3, caption: "AUROC" });
  assertEquals(t.columns, ["cls", "auroc", "n", "extra"]);
  assertEquals(t.cells, [["bottle", "0.988", "20", ""], ["a|b <x>", "1.00e-9", "", ""]]);
  const b = tableBundle(rows, { digits: 3, caption: "AUROC" });
  const html = String(b["text/html"]);
  assert(html.includes("<caption>AUROC</caption>") && html.includes("<th>auroc</th>") && html.includes("a|b &lt;x&gt;"));
  assert(String(b["text/markdown"]).includes("| a\\|b <x> | 1.00e-9 |"));
  assert(String(b["text/plain"]).split("\n")[1].startsWith("cls "));

  const df = pl.DataFrame({ name: ["x", "y"], score: [0.5, 0.25] });
  const fromDf = buildTable(df, { digits: 2 });
  assertEquals(fromDf.columns, ["name", "score"]);
  assertEquals(fromDf.cells, [["x", "0.50"], ["y", "0.25"]]);
  const long = buildTable(Array.from({ length: 12 }, (_, i) => ({ i })), { maxRows: 10 });
  assertEquals([long.cells.length, long.hiddenRows], [10, 2]);
  assertEquals([formatCell(3n, 2), formatCell(NaN, 2), formatCell(-0.5, 1)], ["3", "NaN", "-0.5"]);
});

Deno.test("imageBundle: base64 PNG; a caption also as visible HTML under the image", () => {
  assertEquals(imageBundle(new Uint8Array([137, 80, 78, 71])), { "image/png": "iVBORw==", "text/plain": "[image] 4 byte PNG" });
  const b = imageBundle(new Uint8Array([137, 80, 78, 71]), "a <crack>");
  assertEquals(Object.keys(b), ["text/html", "image/png", "text/plain"]);
  assertEquals([b["image/png"], b["text/plain"]], ["iVBORw==", "[image] a <crack>"]);
  const html = String(b["text/html"]);
  assert(html.startsWith('<figure class="ast-figure"') && html.includes('<img src="data:image/png;base64,iVBORw==" alt="a &lt;crack&gt;"/>'), html);
  assert(html.endsWith(">a &lt;crack&gt;</figcaption></figure>"), html);
});

Deno.test("figureBundle with a caption: the SVG inline in a <figure> with a <figcaption>", async () => {
  const b = await figureBundle(chart, { caption: "two runs" });
  const html = String(b["text/html"]);
  assert(html.includes(String(b["image/svg+xml"])) && html.includes("<figcaption") && html.includes(">two runs</figcaption>"), html.slice(0, 200));
  assertEquals(b["text/plain"], "[chart] ROC a: two runs");
  const raw = await figureBundle(svgFigure, { caption: "tiny one" });
  assert(String(raw["text/html"]).startsWith('<figure class="ast-figure" style="margin:0"><svg'));
});

Deno.test("outside Jupyter: nothing displayed, one note per call, no throw", async () => {
  assertEquals(inJupyter(), false);
  const notes: string[] = [];
  const original = console.error;
  console.error = (msg: string) => notes.push(msg);
  try {
    await show(chart);
    await showTable([{ a: 1 }]);
  } finally {
    console.error = original;
  }
  assertEquals(notes.length, 2);
  assert(notes[0].includes("ROC a"), notes[0]);
});

Deno.test("in Jupyter: each call sends one raw bundle and waits before returning", async () => {
  const jupyterHost = Deno as unknown as { jupyter?: unknown };
  const sent: { bundle: Record<string, unknown>; options: unknown; at: number }[] = [];
  jupyterHost.jupyter = {
    display: (bundle: Record<string, unknown>, options: unknown) => {
      sent.push({ bundle, options, at: performance.now() });
      return Promise.resolve();
    },
  };
  try {
    assertEquals(inJupyter(), true);
    await show(chart);
    const returnedAt = performance.now();
    await showTable([{ a: 1 }], { caption: "c" });
    await showImage(new Uint8Array([1, 2, 3]), "img"); // with a caption: text/html first
    await show(svgFigure);
    assertEquals(sent.map((s) => Object.keys(s.bundle)[0]), ["application/vnd.vegalite.v5+json", "text/html", "text/html", "image/svg+xml"]);
    assert(sent.every((s) => (s.options as { raw?: boolean }).raw === true));
    assert(returnedAt - sent[0].at >= 10, `show returned ${returnedAt - sent[0].at} ms after display`);
  } finally {
    jupyterHost.jupyter = undefined;
  }
  assertEquals(inJupyter(), false);
});
