import pl from "nodejs-polars";
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { findRunDirs, loadRuns, loadScores, RUN_COLUMNS } from "../../lib/results/store.ts";
import { auroc } from "../../lib/metrics/roc.ts";
import { images, tempRoot, writeFakeRun } from "./_runs.ts";

/** A results tree with complete, incomplete, nested, tagged and malformed runs. */
async function fixtureTree(): Promise<string> {
  const root = await tempRoot("ast-store-");
  await writeFakeRun(join(root, "runs", "a-bagel-depth"), { className: "bagel", mode: "depth", seed: 0, images: images(6, 4, 0.5) });
  await writeFakeRun(join(root, "runs", "b-bagel-depth"), {
    className: "bagel",
    mode: "depth",
    seed: 1,
    images: images(6, 4, 0.3),
    tags: { experiment: "table3", scale: 0.5, class: "shadowed" },
  });
  // Missing and null metrics, a config ablation, a tag only this run has.
  await writeFakeRun(join(root, "demo", "20261201T000000Z", "combi"), {
    className: "puck",
    mode: "combi",
    seed: 2,
    images: images(5, 5, 0.2),
    metrics: { pixel_auroc: null, aupro: undefined, validation_scores: null, threads: "two" },
    config: { posEnc: false, student: { kind: "flow", hidden: 64, nBlocks: 8, leakySlope: 0.01, epochs: 3 } },
    tags: { variant: "nf-student-8", scale: "small" },
  });
  await writeFakeRun(join(root, "runs", "c-interrupted"), { className: "foam", mode: "rgb", seed: 0, images: images(3, 3, 1), complete: false });
  // A config.json inside a run folder is not another run (the walk stops at run folders).
  await writeFakeRun(join(root, "runs", "a-bagel-depth", "checkpoint", "inner"), { className: "x", mode: "rgb", seed: 9, images: images(2, 2, 1) });
  // Not a run: no config.json anywhere below.
  await Deno.mkdir(join(root, "bench"), { recursive: true });
  await Deno.writeTextFile(join(root, "bench", "latest.json"), "{}");
  // Corrupt metrics.json: reported, not fatal.
  await writeFakeRun(join(root, "runs", "e-corrupt"), { className: "tire", mode: "rgb", seed: 0, images: images(3, 3, 1) });
  await Deno.writeTextFile(join(root, "runs", "e-corrupt", "metrics.json"), "{ not json");
  return root;
}

Deno.test("findRunDirs: run folders at any depth, sorted, not descending into runs", async () => {
  const root = await fixtureTree();
  assertEquals(findRunDirs(root).map((d) => d.slice(root.length + 1)), [
    "demo/20261201T000000Z/combi",
    "runs/a-bagel-depth",
    "runs/b-bagel-depth",
    "runs/c-interrupted",
    "runs/e-corrupt",
  ]);
  assertEquals(findRunDirs(join(root, "runs", "a-bagel-depth")), [join(root, "runs", "a-bagel-depth")]);
  assertEquals(findRunDirs(join(root, "missing")), []);
});

Deno.test("loadRuns: one row per complete run with metrics, config fields and tags", async () => {
  const root = await fixtureTree();
  const { runs, incomplete, unreadable, defectTypes } = loadRuns(root);
  assertEquals(incomplete, [join(root, "runs", "c-interrupted")]);
  assertEquals(unreadable.map((u) => u.run_dir), [join(root, "runs", "e-corrupt")]);
  assert(/metrics\.json/.test(unreadable[0].error), unreadable[0].error);
  assertEquals(runs.height, 3);
  // Fixed columns first, then tags in first-seen order (runs sorted by path: demo/ first); a tag named like a fixed column is prefixed.
  assertEquals(runs.columns, [...RUN_COLUMNS, "variant", "scale", "experiment", "tag_class"]);

  const rows = runs.toRecords() as Record<string, unknown>[];
  const byId = Object.fromEntries(rows.map((r) => [r.run_id, r]));
  const a = byId["runs/a-bagel-depth"], b = byId["runs/b-bagel-depth"], c = byId["demo/20261201T000000Z/combi"];
  assertEquals(a.run_dir, join(root, "runs", "a-bagel-depth"));
  assertEquals([a.class, a.mode, a.preset, a.backbone, a.seed, a.backend, a.threads, a.seconds], ["bagel", "depth", "demo", "raw-patch", 0, "cpu", 2, 12.5]);
  assertEquals([a.epochs_teacher, a.epochs_student, a.n_test, a.map_len], [20, 20, 10, 16]);
  const labels = images(6, 4, 0.5).map(([l]) => l), scores = images(6, 4, 0.5).map(([, s]) => s);
  assertEquals(a.image_auroc_max, auroc(scores, labels));
  assertEquals([a.pixel_auroc, a.aupro, a.f1_max, a.validation_q99], [0.9, 0.8, 0.75, 2.1]);
  assertEquals([a.teacher_hidden, a.teacher_kernel_sizes, a.student_kind, a.student_hidden, a.student_n_blocks], [64, "3,3,3,5", "asymmetric", 128, 2]);
  assertEquals([a.pos_enc, a.train_mask, a.eval_mask, a.scoring, a.git_commit], [true, true, true, "student", "abc"]);
  // Tags: missing -> null; numbers stay numbers unless a run gives text for the same tag.
  assertEquals([a.experiment, a.variant, b.experiment, b.tag_class, c.variant], [null, null, "table3", "shadowed", "nf-student-8"]);
  assertEquals([b.scale, c.scale], ["0.5", "small"]);
  assertEquals(b.class, "bagel");
  // Null, absent and mistyped fields become null, nothing else shifts.
  assertEquals([c.pixel_auroc, c.aupro, c.validation_mean, c.threads], [null, null, null, null]);
  assertEquals([c.pos_enc, c.student_kind, c.student_n_blocks, c.epochs_student], [false, "flow", 8, 3]);
  assert(runs.getColumn("pixel_auroc").dtype.equals(pl.Float64), String(runs.getColumn("pixel_auroc").dtype));
  assert(runs.getColumn("seed").dtype.equals(pl.Int64), String(runs.getColumn("seed").dtype));
  assert(runs.getColumn("pos_enc").dtype.equals(pl.Bool), String(runs.getColumn("pos_enc").dtype));

  assertEquals(defectTypes.height, 3);
  assertEquals(defectTypes.columns, ["run_dir", "defect_type", "image_auroc"]);
});

Deno.test("loadRuns: numeric tags are Float64 columns", async () => {
  const root = await tempRoot("ast-store-");
  await writeFakeRun(join(root, "r1"), { className: "bagel", mode: "rgb", seed: 0, images: images(3, 3, 1), tags: { scale: 0.25 } });
  await writeFakeRun(join(root, "r2"), { className: "bagel", mode: "rgb", seed: 1, images: images(3, 3, 1) });
  const { runs } = loadRuns(root);
  assert(runs.getColumn("scale").dtype.equals(pl.Float64), String(runs.getColumn("scale").dtype));
  assertEquals(runs.getColumn("scale").toArray(), [0.25, null]);
  assertEquals(runs.getColumn("run_id").toArray(), ["r1", "r2"]);
});

Deno.test("loadRuns: missing root gives empty tables with the fixed columns", () => {
  const { runs, incomplete } = loadRuns("/nonexistent-ast-results");
  assertEquals([runs.height, runs.columns], [0, [...RUN_COLUMNS]]);
  assertEquals(incomplete, []);
});

Deno.test("loadScores: per-image scores of several runs with run_dir", async () => {
  const root = await fixtureTree();
  const { runs } = loadRuns(root);
  const scores = loadScores(runs);
  assertEquals(scores.columns, ["run_dir", "path", "defect_type", "label", "score_max", "score_mean"]);
  assertEquals(scores.height, 10 + 10 + 10);
  const dirs = runs.getColumn("run_dir").toArray() as string[];
  const first = scores.filter(pl.col("run_dir").eq(pl.lit(dirs[1])));
  assertEquals(first.getColumn("score_max").toArray(), images(6, 4, 0.5).map(([, s]) => s));
  assertEquals(first.getColumn("label").toArray(), images(6, 4, 0.5).map(([l]) => l));
  assert(scores.getColumn("label").dtype.equals(pl.Int32));
  assertEquals(loadScores([dirs[0]]).height, 10);
  assertEquals(loadScores([]).columns, scores.columns);
  assertThrows(() => loadScores([join(root, "bench")]), /no scores\.parquet/);
});
