import pl from "nodejs-polars";
import { join } from "node:path";
import type { ExperimentDefinition, GridCell } from "../../lib/experiment/grid.ts";
import { ablationJsonRows, ablationTable, interpretAblation, verdictOf } from "../../lib/report/ablation.ts";
import type { RunRecord } from "../../lib/results/record.ts";
import type { PaperNumber } from "../../lib/results/paper_numbers.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

const N = 40;
const labels = Array.from({ length: N }, (_, i) => (i % 2));
const paths = labels.map((_, i) => `img${i}.png`);

/** A run folder with scores whose anomalies sit `shift` higher (noise seeded by `seed`). */
async function fakeRun(root: string, name: string, shift: number, seed: number, teacherShift: number, shuffle = false): Promise<string> {
  const dir = join(root, name);
  await Deno.mkdir(dir, { recursive: true });
  const rng = mulberry32(seed);
  const order = paths.map((_, i) => i);
  if (shuffle) order.reverse();
  const score = (s: number) => order.map((i) => labels[i] * s + rng());
  pl.DataFrame({
    path: order.map((i) => paths[i]),
    defect_type: order.map((i) => (labels[i] ? "dent" : "good")),
    label: order.map((i) => labels[i]),
    score_max: score(shift),
    score_mean: score(shift),
    teacher_nll_max: score(teacherShift),
  }).writeParquet(join(dir, "scores.parquet"));
  return dir;
}

const metrics = (pixel: number) => ({ pixel_auroc: pixel, teacher_nll: { pixel_auroc: pixel - 0.1 }, layout: "mvtec3d" }) as unknown as RunRecord;

function def(reference = "ast"): ExperimentDefinition {
  const spec = { preset: "demo" as const, datasets: [], modes: ["depth" as const], variants: [{ name: "ast" }, { name: "worse" }, { name: "same" }], seeds: [0, 1, 2] };
  return { name: "t", title: "t", paper: "Table 5", description: "", scales: { demo: spec, cpu: spec, paper: spec }, reference, teacherRows: "reference" };
}

/** A paper where "worse" is 0.05 below AST in depth (variant names as in data/paper_numbers.json). */
const paper: PaperNumber[] = [
  { table: "5", dataset: "mvtec3d", class: "mean", mode: "depth", variant: "ast", metric: "image_auroc", value: 0.83, plus_minus: null, mark: "note", note: null },
  { table: "5", dataset: "mvtec3d", class: "mean", mode: "depth", variant: "worse", metric: "image_auroc", value: 0.78, plus_minus: null, mark: "note", note: null },
  { table: "5", dataset: "mvtec3d", class: "mean", mode: "depth", variant: "teacher-nll", metric: "image_auroc", value: 0.90, plus_minus: null, mark: "note", note: null },
];

async function cells(): Promise<GridCell[]> {
  const root = await Deno.makeTempDir();
  const out: GridCell[] = [];
  for (const seed of [0, 1, 2]) {
    const base = { experiment: "t", scale: "demo" as const, className: "bed", paperClass: "bed", data: "/d/testbeds", mode: "depth" as const, reference: "ast", seed, status: "trained" as const };
    const ast = await fakeRun(root, `ast${seed}`, 1.0, 10 + seed, 0.1);
    out.push({ ...base, variant: "ast", runDir: ast, metrics: metrics(0.9) });
    // "worse" is written in another image order: rows must be matched by path
    out.push({ ...base, variant: "worse", runDir: await fakeRun(root, `w${seed}`, 0.2, 20 + seed, 0.1, true), metrics: metrics(0.8), teacherFrom: ast });
    out.push({ ...base, variant: "same", runDir: await fakeRun(root, `s${seed}`, 1.0, 30 + seed, 0.1), metrics: metrics(0.9), teacherFrom: ast });
  }
  return out;
}

Deno.test("ablation table: paired differences, verdicts from the interval and the paper's direction", async () => {
  const rows = ablationTable(def(), await cells(), { paper, resamples: 1000 });
  assertEquals(rows.map((r) => `${r.variant}/${r.method}`), ["ast/ast", "worse/ast", "same/ast", "teacher-nll/teacher-nll"]);
  const [ref, worse, same, teacher] = rows;
  assertEquals([ref.reference, ref.diff_vs_ast, ref.verdict], [true, null, null]);
  assertEquals(ref.n_seeds, 3);
  assert(worse.diff_ci95![1] < 0, `worse: ${worse.diff_ci95}`);
  assertEquals(worse.verdict, "same direction as the paper");
  assertEquals(worse.paper_diff !== null && Math.abs(worse.paper_diff + 0.05) < 1e-9, true);
  assertEquals(worse.shared_teacher_seeds, 3);
  assertEquals(same.verdict, "not distinguishable");
  // the teacher NLL (shift 0.1) is much worse than AST although the paper says it is better: opposite
  assertEquals(teacher.verdict, "opposite");
  assertEquals(teacher.pixel_auroc !== null && Math.abs(teacher.pixel_auroc - 0.8) < 1e-9, true);
  // a synthetic class: no paper number, no delta
  assertEquals(rows.map((r) => r.paper), [null, null, null, null]);
  const text = interpretAblation(rows);
  assert(/same direction as the paper/.test(text) && /OPPOSITE/.test(text) && /not distinguishable at this scale/.test(text), text);
  const json = ablationJsonRows(rows);
  for (const k of ["mode", "variant", "n_seeds", "image_auroc", "image_auroc_sd", "pixel_auroc", "diff_vs_ast", "diff_ci95", "verdict"]) {
    assert(k in json[0], `json row lacks ${k}`);
  }
  assertEquals(json[0].verdict, null);
});

Deno.test("ablation table: fewer than 3 seeds never make a claim; different test sets are an error", async () => {
  const some = (await cells()).filter((c) => c.seed < 2);
  const rows = ablationTable(def(), some, { paper, resamples: 200 });
  assertEquals(rows.find((r) => r.variant === "worse")!.verdict, "not distinguishable");
  const all = await cells();
  const broken = all.map((c) => (c.variant === "worse" && c.seed === 0 ? { ...c, runDir: all.find((x) => x.variant === "ast" && x.seed === 0)!.runDir!.replace("ast0", "missing") } : c));
  assertThrows(() => ablationTable(def(), broken, { paper, resamples: 10 }));
});

Deno.test("verdictOf: interval, seeds and paper sign", () => {
  assertEquals(verdictOf(-0.2, -0.1, 3, -0.01), "same direction as the paper");
  assertEquals(verdictOf(0.1, 0.2, 3, -0.01), "opposite");
  assertEquals(verdictOf(-0.1, 0.2, 5, -0.01), "not distinguishable");
  assertEquals(verdictOf(-0.2, -0.1, 2, -0.01), "not distinguishable");
  assertEquals(verdictOf(0.1, 0.2, 3, null), "higher than AST");
  assertEquals(verdictOf(-0.3, -0.2, 3, 0), "lower than AST");
});

Deno.test("ablation table: rows in the experiment's rowOrder (the paper's), teacher column before AST's", async () => {
  const d = { ...def(), rowOrder: ["teacher-nll", "same", "worse", "ast"] };
  const rows = ablationTable(d, await cells(), { paper, resamples: 50 });
  assertEquals(rows.map((r) => r.variant), ["teacher-nll", "same", "worse", "ast"]);
});
