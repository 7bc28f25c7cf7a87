/**
 * The cost estimate (lib/experiment/cost.ts, tools/slurm/): hand-computable hours from known step
 * times, cells shared between tables counted once (Table 4 adds nothing), teacher reuse of
 * student-only variants, FLOP scaling in the right direction, published counts adding up to the
 * papers' totals, and the CLI's text naming its bench record.
 */
import type { ClassCounts } from "../../lib/experiment/class_counts.ts";
import { costCells, estimateCost, type NetworkShape, type StepTimes, trainingSplit } from "../../lib/experiment/cost.ts";
import type { DatasetRef, ExperimentDefinition, GridSpec, Variant } from "../../lib/experiment/grid_spec.ts";
import { MVTEC3D_PUBLISHED, MVTEC_AD_PUBLISHED, PUBLISHED_TOTALS } from "../../lib/data/published_counts.ts";
import { EXPERIMENTS } from "../../experiments/mod.ts";
import type { BenchRecord, WorkloadRow } from "../../tools/bench/report.ts";
import { benchStepTimes, StepTimeError } from "../../tools/slurm/step_times.ts";
import { estimateText } from "../../tools/slurm/estimate.ts";
import { runArgs } from "../_cli.ts";
import { projectPath } from "../../lib/util/project.ts";
import { assert, assertClose, assertEquals, assertThrows } from "../assert.ts";

const assertAlmostEquals = (actual: number, expected: number, atol: number) => assertClose([actual], [expected], { atol, rtol: 0 });

const HOUR = 3_600_000;
const REF: DatasetRef = { data: "data/fake3d", root: "mvtec3d", className: "fake" };
const COUNTS = new Map<string, ClassCounts>([["mvtec3d/fake", { layout: "mvtec3d", train: 16, validation: 4, test: 8, source: "published" }]]);

function fakeDefinition(name: string, variants: Variant[], modes: GridSpec["modes"] = ["depth"], seeds = [0]): ExperimentDefinition {
  const spec: GridSpec = { preset: "paper", datasets: [REF], modes, variants, seeds, epochs: 2 };
  return { name, title: name, paper: name, description: "test", scales: { paper: spec, cpu: spec, demo: spec } };
}

/** Flow steps 1000 ms, CNN steps 2000 ms; forward 10 / 20 ms per image; extraction 100 ms per image. */
const KNOWN: StepTimes = {
  trainStepMs: (n: NetworkShape) => (n.kind === "flow" ? 1000 : 2000),
  forwardMsPerImage: (n: NetworkShape) => (n.kind === "flow" ? 10 : 20),
  extractionMsPerImage: () => 100,
  depthMsPerImage: null,
};

Deno.test("cost: known step times give hand-computed hours for a tiny definition", () => {
  const def = fakeDefinition("tiny", [{ name: "ast" }]);
  const est = estimateCost([def], costCells([def], COUNTS), KNOWN, 2);
  const e = est.experiments[0];
  // 2 epochs x ceil(16/8) = 2 steps; 3D-AD trains on train, validation (4) held apart
  assertEquals([e.cells, e.newTrainings, e.teachersSaved], [1, 1, 0]);
  assertAlmostEquals(e.hours.teacher * HOUR, 2 * 2 * 1000, 1e-6);
  assertAlmostEquals(e.hours.student * HOUR, 2 * 2 * (2000 + 8 * 10), 1e-6); // + the teacher's forward on each batch
  assertAlmostEquals(e.hours.scoring * HOUR, (4 + 8) * (10 + 20) + 8 * 10, 1e-6); // + the teacher-NLL pass over test
  assertEquals(e.hours.features, 0); // depth only: no backbone, depth_800 not measured
  assertAlmostEquals(e.wallHours * HOUR, 4000 + 8320 + 440, 1e-6);
  assertAlmostEquals(e.coreHours, 2 * e.wallHours, 1e-12);
});

Deno.test("cost: image features are extracted once per class and backbone, across seeds and modes", () => {
  const def = fakeDefinition("rgb", [{ name: "ast" }], ["rgb", "combi"], [0, 1]);
  const e = estimateCost([def], costCells([def], COUNTS), KNOWN, 1).experiments[0];
  assertEquals(e.newTrainings, 4);
  assertAlmostEquals(e.hours.features * HOUR, (16 + 4 + 8) * 100, 1e-6);
});

Deno.test("cost: a student-only variant with an equal teacher config reuses its reference cell's teacher", () => {
  const def = fakeDefinition("reuse", [
    { name: "ast" },
    { name: "deep-student", config: { student: { nBlocks: 8 } } },
    { name: "other-teacher", config: { teacher: { hidden: 32 } } },
  ]);
  const cells = costCells([def], COUNTS);
  const byName = Object.fromEntries(cells.map((c) => [c.variant, c]));
  assertEquals(byName["deep-student"].teacherFrom, byName.ast.key);
  assertEquals(byName["other-teacher"].teacherFrom, null);
  const e = estimateCost([def], cells, KNOWN, 1).experiments[0];
  assertEquals(e.teachersSaved, 1);
  assertAlmostEquals(e.hours.teacher * HOUR, 2 * 2 * 1000 * 2, 1e-6); // ast and other-teacher train one each
});

/** Published counts of every paper-scale class, as the CLI uses them without data on disk. */
function publishedCountsMap(): Map<string, ClassCounts> {
  const m = new Map<string, ClassCounts>();
  for (const [c, v] of Object.entries(MVTEC_AD_PUBLISHED)) m.set(`mvtecAd/${c}`, { layout: "mvtecad", ...v, source: "published" });
  for (const [c, v] of Object.entries(MVTEC3D_PUBLISHED)) m.set(`mvtec3d/${c}`, { layout: "mvtec3d", ...v, source: "published" });
  return m;
}

Deno.test("cost: the paper tables — Table 4 adds no training, Tables 5-7's AST cells are Table 3's", () => {
  const defs = Object.values(EXPERIMENTS);
  const est = estimateCost(defs, costCells(defs, publishedCountsMap()), KNOWN, 2);
  const by = Object.fromEntries(est.experiments.map((e) => [e.name, e]));
  const t4 = by.table4_pixel;
  assertEquals([t4.cells, t4.newTrainings, t4.wallHours], [75, 0, 0]);
  assertEquals(t4.shared, { table2_mvtec_ad: 45, table3_mvtec3d: 30 });
  assertEquals([by.table2_mvtec_ad.newTrainings, by.table3_mvtec3d.newTrainings], [45, 90]);
  assertEquals(by.table5_students.shared, { table3_mvtec3d: 90 });
  assertEquals([by.table5_students.newTrainings, by.table5_students.teachersSaved], [180, 180]);
  assertEquals(by.table6_student_depth.shared, { table3_mvtec3d: 30 });
  assertEquals([by.table6_student_depth.newTrainings, by.table6_student_depth.teachersSaved], [120, 120]);
  // Table 7 changes the positional encoding or the training mask: the teacher changes too
  assertEquals(by.table7_posenc_mask.shared, { table3_mvtec3d: 90 });
  assertEquals(by.table7_posenc_mask.teachersSaved, 0);
  assertEquals(est.total.newTrainings, 45 + 90 + 180 + 120 + 150);
  assertEquals(est.total.cells, est.total.newTrainings);
});

const row = (name: string, ms: number): WorkloadRow => ({ name, ms_per_step: ms, gflops: 1, reference_ms: null, ratio: null, steps_ms: [ms] });
const RECORD: BenchRecord = {
  backend: "test",
  threads: 2,
  workloads: [row("student_h256", 100), row("student_h1024", 1000), row("teacher_h64", 50), row("teacher_h1024", 700), row("effnet_b5_768", 600)],
  demo_seconds: null,
  skipped: [],
  loadavg: { start: "0.10", end: "0.20" },
  date: "2026-01-02T03:04:05.000Z",
};
const flow = (hidden: number, nBlocks: number, channels = 368): NetworkShape =>
  ({ kind: "flow", channels, hidden, nBlocks, kernelSizes: [3, 3, 3, 5], posEncDim: 32, batch: 8, side: 24 });
const cnn = (nBlocks: number, channels = 368): NetworkShape => ({ kind: "asymmetric", channels, hidden: 1024, nBlocks, posEncDim: 32, batch: 8, side: 24 });

Deno.test("cost: shapes the bench did not run are scaled by FLOPs from the nearest row of their kind", () => {
  const t = benchStepTimes(RECORD);
  assertEquals(t.trainStepMs(flow(64, 4)), 50); // measured as such
  assertEquals(t.scalings(), []);
  const nf8 = t.trainStepMs(flow(64, 8)), nf4 = t.trainStepMs(flow(64, 4));
  assert(nf8 > nf4, `8-block NF student ${nf8} ms must cost more than 4-block ${nf4} ms`);
  assertAlmostEquals(nf8, 100, 1e-9); // twice the coupling blocks, twice the FLOPs
  assert(t.trainStepMs(cnn(8)) > t.trainStepMs(cnn(4)) && t.trainStepMs(cnn(1)) < t.trainStepMs(cnn(4)));
  // fewer channels (RGB only): cheaper, and a wide flow scales from the wide teacher row, not the narrow one
  const wide = t.trainStepMs(flow(1024, 4, 304));
  assert(wide < 700 && wide > 500, `h1024 flow at 304 ch should scale teacher_h1024 (700 ms) down a little, got ${wide}`);
  assertEquals(t.scalings().find((s) => s.shape.startsWith("flow h1024x4 304ch"))?.from, "teacher_h1024");
  assertAlmostEquals(t.forwardMsPerImage(flow(64, 4)), 50 / 3 / 8, 1e-9);
  assertEquals(t.extractionMsPerImage("efficientnet-b5", 24), 600);
  assertThrows(() => benchStepTimes({ ...RECORD, workloads: [] }).trainStepMs(cnn(4)), (e: Error) => e instanceof StepTimeError && /student/.test(e.message));
  // a record with a row per precision: the estimate takes the fp32 rows unless asked otherwise
  const both = { ...RECORD, workloads: RECORD.workloads.flatMap((w) => [{ ...w, precision: "fp32" as const }, { ...w, precision: "bf16" as const, ms_per_step: w.ms_per_step / 2 }]) };
  assertEquals(benchStepTimes(both).trainStepMs(flow(64, 4)), 50);
  assertEquals(benchStepTimes(both, undefined, "bf16").trainStepMs(flow(64, 4)), 25);
});

Deno.test("cost: published counts add up to the papers' totals; the split follows lib/run/split.ts", () => {
  const sum = (t: Record<string, { train: number; validation: number; test: number }>) =>
    Object.values(t).reduce((a, c) => ({ train: a.train + c.train, validation: a.validation + c.validation, test: a.test + c.test }), { train: 0, validation: 0, test: 0 });
  assertEquals(sum(MVTEC_AD_PUBLISHED), PUBLISHED_TOTALS.mvtecad);
  assertEquals(sum(MVTEC3D_PUBLISHED), PUBLISHED_TOTALS.mvtec3d);
  assertEquals(trainingSplit({ train: 100, validation: 0 }, 0.1), { train: 90, held: 10 });
  assertEquals(trainingSplit({ train: 100, validation: 0 }, 0), { train: 100, held: 0 });
  assertEquals(trainingSplit({ train: 100, validation: 7 }, 0.1), { train: 100, held: 7 });
});

Deno.test("cost: the estimate's text names its bench record and says what is not measured", () => {
  const defs = Object.values(EXPERIMENTS);
  const text = estimateText({ record: { ...RECORD, cpu: { model: "Test CPU", isa: ["avx2", "fma"] } }, benchPath: "x.json", defs, counts: publishedCountsMap() }, true);
  for (const want of ["x.json of 2026-01-02T03:04:05.000Z", "backend test", "x2 threads", "CPU Test CPU (avx2 fma)", "load average 0.10 -> 0.20", "not measured here", "| Table 4 (table4_pixel) | 75 | 0 |", "published"]) {
    assert(text.includes(want), `missing '${want}' in:\n${text}`);
  }
});

Deno.test("cost: `deno task estimate --markdown` runs with its task's permissions on a bench record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bench = `${dir}/bench.json`;
    await Deno.writeTextFile(bench, JSON.stringify(RECORD));
    const out = await new Deno.Command(Deno.execPath(), {
      args: runArgs("estimate", projectPath("tools", "slurm", "estimate.ts"), "--bench", bench, "--markdown"),
      cwd: projectPath(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert(out.success, new TextDecoder().decode(out.stderr));
    assert(text.includes("| **total** (each cell once) | 585 | 585 |"), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
