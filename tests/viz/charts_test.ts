import { assert, assertEquals, assertThrows } from "../assert.ts";
import { barChart, barLayout, histogramChart, lineChart, rocChart } from "../../lib/viz/charts.ts";
import { binHistogram } from "../../lib/viz/binning.ts";
import { thinCurve } from "../../lib/viz/curve_thinning.ts";
import { svgToPng, vegaLiteToSvg } from "../../lib/viz/render.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { decodeRgba, inkStats, vegaItems } from "./_helpers.ts";

/** Inline data rows of a (possibly layered) spec. */
function dataRows(spec: unknown): Record<string, unknown>[] {
  const s = spec as { data?: { values?: Record<string, unknown>[] }; layer?: unknown[] };
  return [...(s.data?.values ?? []), ...(s.layer ?? []).flatMap(dataRows)];
}

Deno.test("rocChart: one line per curve, the diagonal, AUC in the legend (given or trapezoid)", async () => {
  const spec = rocChart([
    { name: "ours", fpr: [0, 0, 0.1, 0.1, 0.4, 1], tpr: [0, 0.5, 0.5, 0.9, 1, 1] },
    { name: "baseline", fpr: [0, 0.5, 1], tpr: [0, 0.6, 1], auc: 0.55 },
  ], { title: "Image ROC" });
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "line"), 2);
  assertEquals(vegaItems(svg, "rule"), 1); // chance diagonal
  // 0.05 + 0.09 + 0.3*0.95 + 0.6*1 = 0.935
  assert(svg.includes(">ours (AUC 0.935)</text>"), "computed AUC in legend");
  assert(svg.includes(">baseline (AUC 0.550)</text>"), "given AUC in legend");
  assert(svg.includes(">Image ROC</text>") && svg.includes(">false positive rate</text>"));
  assertEquals(await vegaLiteToSvg(rocChart([{ name: "ours", fpr: [0, 1], tpr: [0, 1] }])), await vegaLiteToSvg(rocChart([{ name: "ours", fpr: [0, 1], tpr: [0, 1] }])));
});

Deno.test("thinCurve: a 1e5-point ROC shrinks to <= ~2000 points within the tolerance, ends kept", () => {
  const n = 100_000;
  const fpr = Float64Array.from({ length: n }, (_, i) => i / (n - 1));
  const tpr = fpr.map((x) => Math.sqrt(x));
  const thin = thinCurve(fpr, tpr, 1e-3);
  assert(thin.x.length < 2100 && thin.x.length > 500, `${thin.x.length} points`);
  assertEquals([thin.x[0], thin.y[0], thin.x.at(-1), thin.y.at(-1)], [0, 0, 1, 1]);
  // Every dropped point lies within the tolerance box of the last kept point before it.
  let k = 0;
  for (let i = 1; i < n; i++) {
    if (fpr[i] === thin.x[k + 1]) {
      k++;
      continue;
    }
    assert(Math.abs(fpr[i] - thin.x[k]) <= 1e-3 && Math.abs(tpr[i] - thin.y[k]) <= 1e-3, `point ${i} dropped too far from kept ${k}`);
  }
  assertEquals(k, thin.x.length - 1);
  assertEquals(dataRows(rocChart([{ name: "big", fpr, tpr }])).filter((r) => r.name).length, thin.x.length);
});

Deno.test("binHistogram: every finite value counted once, max in the last bin", () => {
  const rng = mulberry32(7);
  const a = Float32Array.from({ length: 1_000_000 }, () => rng() * 3 - 1);
  const b = new Float64Array([NaN, Infinity, 2, 5, -1]);
  const h = binHistogram([a, b], { bins: 37 });
  assertEquals(h.edges.length, 38);
  assertEquals(h.counts[0].reduce((s, c) => s + c, 0), a.length);
  assertEquals(h.counts[1].reduce((s, c) => s + c, 0), 3);
  assertEquals(h.excluded, [0, 2]);
  assertEquals(h.edges[37], 5);
  assertEquals(h.counts[1][36], 1); // the maximum (5) lands in the last bin, not past it
  const log = binHistogram([b], { bins: 4, log: true });
  assertEquals([log.excluded[0], log.counts[0].reduce((s, c) => s + c, 0)], [3, 2]); // NaN, Inf, -1 left out
  assertEquals([log.edges[0], log.edges[4]], [2, 5]);
  assertThrows(() => binHistogram([a], { bins: 0 }), /positive integer/);
});

Deno.test("histogramChart: bins, not raw values, in the spec; overlaid groups; density integrates to 1", async () => {
  const rng = mulberry32(3);
  const normal = Float32Array.from({ length: 200_000 }, () => rng() + rng());
  const anomalous = Float32Array.from({ length: 3000 }, () => 1.5 + rng());
  const spec = histogramChart([{ name: "normal", values: normal }, { name: "anomalous", values: anomalous }], {
    bins: 40,
    density: true,
    xLabel: "distance",
  });
  const rows = dataRows(spec) as { name: string; lo: number; hi: number; value: number }[];
  assert(rows.length <= 80, `${rows.length} rows`);
  for (const name of ["normal", "anomalous"]) {
    const area = rows.filter((r) => r.name === name).reduce((s, r) => s + r.value * (r.hi - r.lo), 0);
    assert(Math.abs(area - 1) < 1e-3, `${name} area ${area}`);
  }
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "rect"), rows.length);
  assert(svg.includes(">normal</text>") && svg.includes(">anomalous</text>") && svg.includes(">density</text>"));
  const counts = dataRows(histogramChart([{ name: "n", values: [0.1, 0.2, 0, -1, NaN] }], { logX: true, bins: 5 }));
  assertEquals(counts.reduce((s, r) => s + (r.value as number), 0), 2);
  assert(JSON.stringify(histogramChart([{ name: "n", values: [0, 1] }], { logX: true })).includes("1 value(s) left out"));
});

Deno.test("lineChart: one line per series, the shaded band and its label", async () => {
  const x = Array.from({ length: 50 }, (_, i) => i / 10 - 2.5);
  const spec = lineChart([{ name: "teacher", x, y: x.map(Math.sin) }, { name: "student", x, y: x.map(Math.cos) }], {
    shade: [-1, 1],
    shadeLabel: "training region",
    title: "toy",
    yLabel: "output",
  });
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "line"), 2);
  assertEquals(vegaItems(svg, "rect"), 1); // the band
  assertEquals(vegaItems(svg, "text") > 0, true);
  assert(svg.includes(">training region</text>") && svg.includes(">teacher</text>") && svg.includes(">output</text>"));
  assertThrows(() => lineChart([{ name: "bad", x: [1, 2], y: [1] }]), /x has 2 values, y has 1/);
});

Deno.test("lineChart: bands under the lines, coloured like the series of the same name; subtitle", async () => {
  const x = [0, 1, 2, 3];
  const spec = lineChart([{ name: "a", x, y: [1, 2, 3, 4] }, { name: "b", x, y: [4, 3, 2, 1] }], {
    title: "spread",
    subtitle: "min-max over seeds",
    bands: [{ name: "b", x, lo: [3, 2, 1, 0], hi: [5, 4, 3, 2] }],
  });
  const layers = (spec as unknown as { layer: { mark: { type: string }; encoding: { color: { scale: { domain: string[] } } } }[] }).layer;
  assertEquals(layers.map((l) => l.mark.type), ["area", "line"]);
  assertEquals(layers[0].encoding.color.scale.domain, ["a", "b"]);
  assertEquals(layers[1].encoding.color.scale.domain, ["a", "b"]);
  assertEquals(dataRows(spec).filter((r) => "lo" in r).map((r) => [r.lo, r.hi]), [[3, 5], [2, 4], [1, 3], [0, 2]]);
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "area"), 1);
  assertEquals(vegaItems(svg, "line"), 2);
  assert(svg.includes(">min-max over seeds</text>"), "subtitle rendered");
  assertThrows(() => lineChart([], { bands: [{ name: "bad", x: [1, 2], lo: [1], hi: [1, 2] }] }), /lengths differ/);
});

Deno.test("barChart: one bar per row, error bars only where lo and hi exist; renders", async () => {
  const spec = barChart([
    { group: "bottle", name: "AST", value: 0.98, lo: 0.97, hi: 0.99 },
    { group: "bottle", name: "baseline", value: 0.9, lo: 0.85, hi: 0.93 },
    { group: "cable", name: "AST", value: 0.95, lo: 0.93, hi: 0.97 },
    { group: "cable", name: "baseline", value: 0.8 },
  ], { title: "AUROC by class", yLabel: "AUROC", domain: [0.5, 1] });
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "rect"), 4);
  assertEquals(vegaItems(svg, "rule"), 3);
  assert(svg.includes(">bottle</text>") && svg.includes(">cable</text>") && svg.includes(">AUROC by class</text>"));
  const ink = inkStats(decodeRgba(svgToPng(svg)));
  assert(ink.nonWhite > 0.1 && ink.variance > 0, JSON.stringify(ink));
});

Deno.test("barChart: labels that do not fit their column wrap one word per line, or the bars turn horizontal; never truncated", async () => {
  assertEquals(barLayout(["rgb", "depth", "combi"]), "one-line");
  assertEquals(barLayout(["rgb: ast", "rgb: teacher", "depth: ast", "depth: teacher", "combi: ast", "combi: teacher"]), "wrapped");
  const table7 = ["combi", "depth", "rgb"].flatMap((m) => ["no", "yes"].flatMap((p) => ["no", "yes"].map((k) => `${m}: pos_enc=${p} mask=${k}`)));
  assertEquals(barLayout(table7), "horizontal");
  assertEquals(barLayout(["rgb"], "horizontal"), "horizontal");
  const rows = table7.flatMap((group) => [{ group, name: "AST", value: 0.9, lo: 0.8, hi: 0.95 }, { group, name: "teacher NLL", value: 0.8 }]);
  const spec = barChart(rows, { yLabel: "image AUROC", domain: [0, 1] }) as unknown as { height: number; layer: { encoding: Record<string, { axis?: { labelLimit?: number } }> }[] };
  const enc = spec.layer[0].encoding;
  assert(enc.y && enc.yOffset && enc.x && !enc.xOffset, "groups down y, offset by name");
  assertEquals(enc.y.axis?.labelLimit, 0);
  assertEquals(spec.height, 12 * 28);
  const svg = await vegaLiteToSvg(spec as never);
  assert(svg.includes(">depth: pos_enc=yes mask=no</text>") && !svg.includes("\u2026"), "whole labels, no ellipsis");
  const wrapped = await vegaLiteToSvg(barChart([{ group: "depth: teacher", name: "a", value: 1 }, ...["b", "c", "d", "e", "f"].map((g) => ({ group: `${g}: x`, name: "a", value: 1 }))]));
  assert(wrapped.includes("<tspan") && wrapped.includes(">teacher</tspan>"), "multi-line labels");
});
