/** Like with like: the paper's numbers only where dataset and class are the paper's. */
import pl from "nodejs-polars";
import { displayComparison, paperComparison } from "../../lib/report/paper_tables.ts";
import { loadPaperNumbers, paperValue } from "../../lib/results/paper_numbers.ts";
import { assert, assertEquals } from "../assert.ts";

function runs(rows: { cls: string; layout: string; auroc: number[] }[]) {
  const flat = rows.flatMap((r) => r.auroc.map((a, seed) => ({ ...r, a, seed })));
  return pl.DataFrame({
    run_dir: flat.map((r, i) => `/runs/${r.cls}-${i}`),
    class: flat.map((r) => r.cls),
    paper_class: flat.map((r) => r.cls),
    layout: flat.map((r) => r.layout),
    mode: flat.map(() => "rgb"),
    variant: flat.map(() => "ast"),
    seed: flat.map((r) => r.seed),
    image_auroc_max: flat.map((r) => r.a),
  });
}

Deno.test("paperComparison: synthetic and own classes show ours alone; paper classes get the paper's number and a mean row", () => {
  const t = paperComparison(runs([
    { cls: "puck", layout: "mvtec3d", auroc: [0.8, 0.9, 0.85] },
    { cls: "grid", layout: "mvtecad", auroc: [0.9, 0.95, 0.92] },
    { cls: "carpet", layout: "mvtecad", auroc: [0.7, 0.75, 0.8] },
    // a folder of your own images named like an MVTec class is still not the paper's data
    { cls: "tile", layout: "folder", auroc: [0.6, 0.6, 0.6] },
  ]), { table: "2", bootstrap: false });
  const rec = Object.fromEntries(t.toRecords().map((r) => [String(r.class), r]));
  assertEquals(rec.puck.paper, null);
  assertEquals(rec.puck.delta, null);
  assertEquals(rec.tile.paper, null);
  const paper = loadPaperNumbers();
  assertEquals(rec.grid.paper, paperValue({ table: "2", class: "grid", mode: "rgb", variant: "ast", metric: "image_auroc" }, paper)!.value);
  assert(Math.abs((rec.grid.ours as number) - (0.9 + 0.95 + 0.92) / 3) < 1e-12);
  // the mean averages grid and carpet only, never puck or the folder
  assert(Math.abs((rec.mean.ours as number) - ((0.9 + 0.95 + 0.92) / 3 + (0.7 + 0.75 + 0.8) / 3) / 2) < 1e-12, JSON.stringify(rec.mean));
  assert(/grid/.test(String(rec.mean.compared_with)) && !/puck/.test(String(rec.mean.compared_with)));
  assert(/ours alone/.test(String(rec.puck.compared_with)));
  // display: the paper's order (carpet before grid), the mean after its classes, ours-alone rows last; seed sd shown
  // both shown paper classes are textures: a textures row too, no objects row (none shown)
  assert(Math.abs((rec.mean_textures.ours as number) - (rec.mean.ours as number)) < 1e-12);
  assertEquals(rec.mean_objects, undefined);
  const shown = displayComparison(t).map((r) => r.class);
  assertEquals(shown, ["carpet", "grid", "mean_textures", "mean", "puck", "tile"]);
  assert(/±/.test(String(displayComparison(t)[0]["ours ± seed sd"])));
});

Deno.test("paperComparison: pixel AUROC (no bootstrap replicates exist) gives a table, ours alone where the paper has no class number", () => {
  // Table 4 reports pixel AUROC as means only: a class row has no paper number
  const df = runs([{ cls: "grid", layout: "mvtecad", auroc: [0.9, 0.95] }, { cls: "puck", layout: "mvtec3d", auroc: [0.8, 0.85] }]);
  const t = paperComparison(df.withColumn(df.getColumn("image_auroc_max").alias("pixel_auroc")), { table: "4", metric: "pixel_auroc" });
  assertEquals(t.getColumn("class").toArray().sort(), ["grid", "puck"]);
  assertEquals(t.getColumn("paper").toArray(), [null, null]);
  assert(!t.columns.includes("boot"));
});
