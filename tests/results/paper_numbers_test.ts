import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  loadPaperNumbers,
  PAPER_MARKS,
  PAPER_NUMBERS_PATH,
  paperNumbersFrame,
  paperValue,
  parsePaperNumbers,
  variantName,
} from "../../lib/results/paper_numbers.ts";

const rows = loadPaperNumbers();
const get = (table: string, cls: string, mode: "depth" | "rgb" | "combi", variant: string, metric: "image_auroc" | "pixel_auroc" | "params_m" | "inference_ms" = "image_auroc") =>
  paperValue({ table, class: cls, mode, variant, metric });

Deno.test("paper numbers: the file validates; AUROCs are fractions; every row has a known mark", () => {
  assert(PAPER_NUMBERS_PATH.endsWith("data/paper_numbers.json"));
  const json = JSON.parse(Deno.readTextFileSync(PAPER_NUMBERS_PATH));
  assert(typeof json._schema === "object" && json._schema.fields.mark, "the file documents its schema");
  assertEquals(rows.length, json.rows.length);
  for (const r of rows) {
    assert(PAPER_MARKS.includes(r.mark), JSON.stringify(r));
    if (r.metric.endsWith("auroc")) assert(r.value > 0 && r.value <= 1, JSON.stringify(r));
  }
  assertEquals([...new Set(rows.map((r) => r.table))].sort(), ["2", "3", "4", "5", "6", "7"]);
  // Every number of the doc: Table 2 23, Table 3 37, Table 4 5, Table 5 12, Table 6 18, Table 7 16.
  const perTable = Object.fromEntries(["2", "3", "4", "5", "6", "7"].map((t) => [t, rows.filter((r) => r.table === t).length]));
  assertEquals(perTable, { "2": 23, "3": 37, "4": 5, "5": 12, "6": 18, "7": 16 });
});

Deno.test("paper numbers: spot checks against docs/PAPER_NUMBERS.md, with marks", () => {
  const mean3 = get("3", "mean", "combi", "ast")!;
  assertEquals([mean3.value, mean3.mark, mean3.plus_minus], [0.937, "text", 0.002]);
  assertEquals([get("3", "bagel", "depth", "ast")!.value, get("3", "bagel", "depth", "ast")!.mark], [0.881, "copy"]);
  assertEquals([get("3", "potato", "rgb", "ast")!.value, get("3", "potato", "rgb", "ast")!.mark], [0.613, "note"]);
  assertEquals(get("3", "rope", "combi", "ast")!.mark, "unverified");
  const carrot = get("3", "carrot", "depth", "ast")!;
  assertEquals([carrot.value, carrot.mark], [0.965, "derived"]);
  assert(carrot.note!.includes("95.6"), "the copy's printed value is kept in the note");
  assertEquals(get("2", "metal_nut", "rgb", "ast")!.value, 0.985);
  assertEquals([get("2", "mean", "rgb", "ast")!.value, get("2", "mean", "rgb", "ast")!.plus_minus], [0.992, 0.0004]);
  assertEquals(get("2", "mean_textures", "rgb", "baseline:cs-flow")!.value, 0.998);
  assertEquals([get("3", "mean", "combi", "baseline:patchcore+fpfh")!.value, get("3", "mean", "combi", "baseline:patchcore+fpfh")!.mark], [0.865, "derived"]);
  assertEquals(get("4", "mean", "combi", "ast", "pixel_auroc")!.value, 0.976);
  assertEquals(get("5", "mean", "rgb", "nf-student-8")!.value, 0.767);
  assertEquals(get("6", "mean", "combi", variantName("ast", { n_st_blocks: 12 }), "params_m")!.value, 233.6);
  assertEquals(get("6", "mean", "combi", "teacher-nll", "inference_ms")!.value, 4.5);
  assertEquals(get("7", "mean", "combi", variantName("ast", { pos_enc: false, mask: true }))!.value, 0.938);
  assertEquals(get("7", "mean", "depth", variantName("teacher-nll", { pos_enc: true, mask: false }))!.value, 0.594);
  assertEquals(get("3", "mean", "depth", "nf-student"), null, "Table 3 has no NF student");
  assertEquals(get("3", "bagel", "rgb", "ast", "pixel_auroc"), null, "no per-class pixel AUROC in the doc");
});

Deno.test("paper numbers: Table 3 per-class values average to the stated means (rounding)", () => {
  for (const mode of ["depth", "rgb", "combi"] as const) {
    const perClass = rows.filter((r) => r.table === "3" && r.variant === "ast" && r.mode === mode && r.class !== "mean");
    assertEquals(perClass.length, 10);
    const avg = perClass.reduce((a, r) => a + r.value, 0) / 10;
    const stated = get("3", "mean", mode, "ast")!.value;
    assert(Math.abs(avg - stated) <= 0.0005, `${mode}: per-class mean ${avg} vs stated ${stated}`);
  }
});

Deno.test("paper numbers: frame has one row per number and nulls for absent optional fields", () => {
  const df = paperNumbersFrame(rows);
  assertEquals(df.height, rows.length);
  assertEquals(df.columns, ["table", "dataset", "class", "mode", "variant", "metric", "value", "plus_minus", "mark", "note"]);
  const bagel = df.toRecords().find((r) => r.table === "3" && r.class === "bagel" && r.mode === "depth")!;
  assertEquals([bagel.plus_minus, bagel.note], [null, null]);
});

Deno.test("parsePaperNumbers: rejects percents, unknown marks, duplicates", () => {
  const ok = { table: "3", dataset: "mvtec3d", class: "bagel", mode: "depth", variant: "ast", metric: "image_auroc", value: 0.881, mark: "copy" };
  assertEquals(parsePaperNumbers({ rows: [ok] }).length, 1);
  assertThrows(() => parsePaperNumbers({ rows: [{ ...ok, value: 88.1 }] }), /fraction/);
  assertThrows(() => parsePaperNumbers({ rows: [{ ...ok, mark: "guess" }] }), /'mark'/);
  assertThrows(() => parsePaperNumbers({ rows: [{ ...ok, mode: "3d" }] }), /'mode'/);
  assertThrows(() => parsePaperNumbers({ rows: [ok, { ...ok, value: 0.9 }] }), /duplicate/);
  assertThrows(() => parsePaperNumbers({}), /rows/);
});

Deno.test("variantName: settings sorted by key, booleans as yes/no", () => {
  assertEquals(variantName("ast"), "ast");
  assertEquals(variantName("ast", { pos_enc: false, mask: true }), "ast,mask=yes,pos_enc=no");
  assertEquals(variantName("ast", { n_st_blocks: 1 }), "ast,n_st_blocks=1");
});
