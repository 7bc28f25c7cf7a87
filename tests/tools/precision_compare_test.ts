/** The bf16-vs-fp32 verdict: every difference within the bar, and bf16 actually ran; otherwise fp32 stays the default. */
import type { GridCell } from "../../lib/experiment/grid.ts";
import type { AblationRow } from "../../lib/report/ablation.ts";
import { MAX_DEFAULT_DIFFERENCE, precisionExperiment, precisionRows, precisionTable, withinBar } from "../../tools/precision/compare.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";

function row(variant: string, image: number, diff: number | null, ci: [number, number] | null): AblationRow {
  return {
    experiment: "precision_bf16", data: "/d/synthetic_mvtec3d", class: "puck", mode: "depth", variant, method: "ast", reference: variant === "fp32",
    n_seeds: 3, seeds: [0, 1, 2], image_auroc: image, image_auroc_sd: 0.01, pixel_auroc: 0.9, diff_vs_ast: diff, diff_ci95: ci, verdict: null,
    paper_diff: null, paper: null, delta_vs_paper: null,
  } as unknown as AblationRow;
}

function cell(variant: string, seed: number, pixel: number, precision = variant): GridCell {
  return {
    experiment: "precision_bf16", scale: "demo", className: "puck", paperClass: "puck", data: "/d/synthetic_mvtec3d", mode: "depth", variant, reference: "fp32", seed,
    runDir: `/r/${variant}${seed}`, status: "recorded", metrics: { pixel_auroc: pixel, precision, precision_isa: "bf16 via brgconv:avx512_core_bf16" } as unknown as GridCell["metrics"],
  };
}

Deno.test("precision compare: pairs bf16 with fp32 per seed; the verdict needs every difference within the bar and bf16 to have run", () => {
  const cells = [0, 1, 2].flatMap((s) => [cell("fp32", s, 0.9), cell("bf16", s, 0.9 + 0.001 * (s - 1))]);
  const rows = precisionRows([row("fp32", 0.95, null, null), row("bf16", 0.951, 0.001, [-0.002, 0.004])], cells);
  assertEquals(rows.length, 1);
  assertEquals(rows[0].pixel_diff_per_seed.map((d) => Math.round(d * 1e6) / 1e6), [-0.001, 0, 0.001]);
  assertEquals([rows[0].image_auroc_fp32, rows[0].image_auroc_bf16, rows[0].bf16_precision], [0.95, 0.951, ["bf16"]]);
  assert(withinBar(rows));
  assertStringIncludes(precisionTable(rows), "+0.0010 [-0.0020, +0.0040]");
  // one seed's pixel AUROC off by more than the bar
  const far = precisionRows([row("fp32", 0.95, null, null), row("bf16", 0.951, 0.001, [-0.002, 0.004])], [...cells.slice(0, 5), cell("bf16", 2, 0.9 + MAX_DEFAULT_DIFFERENCE * 2)]);
  assert(!withinBar(far));
  // a bf16 cell that fell back to fp32 proves nothing about bf16
  const fellBack = precisionRows([row("fp32", 0.95, null, null), row("bf16", 0.95, 0, [0, 0])], [0, 1, 2].flatMap((s) => [cell("fp32", s, 0.9), cell("bf16", s, 0.9, "fp32")]));
  assert(!withinBar(fellBack));
  assert(!withinBar([]), "no rows: no verdict");
});

Deno.test("precision compare: the grid is fp32 (reference) vs bf16 on the shared puck (depth, combi) and grid subset (rgb)", () => {
  const def = precisionExperiment();
  const demo = def.scales.demo;
  assertEquals(def.reference, "fp32");
  assertEquals(demo.variants.map((v) => [v.name, v.config ?? null]), [["fp32", null], ["bf16", { precision: "bf16" }]]);
  assertEquals(demo.datasets.map((d) => [d.className, d.modes]), [["puck", ["depth", "combi"]], ["mvtec_ad_grid_subset", ["rgb"]]]);
  assertEquals(demo.seeds.length, 3);
});
