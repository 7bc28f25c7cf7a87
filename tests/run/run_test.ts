import { join } from "node:path";
import pl from "nodejs-polars";
import { runExperiment } from "../../lib/run/run.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { auroc } from "../../lib/metrics/roc.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

const root3d = await tinyMvtec3d();
const rootAd = await tinyMvtecAd();

/** metrics.json's image AUROCs recomputed from scores.parquet: the record agrees with itself. */
function assertConsistent(out: string, metrics: { image_auroc_max: number | null; image_auroc_mean: number | null }) {
  const scores = pl.readParquet(join(out, "scores.parquet"));
  const label = scores.getColumn("label").toArray() as number[];
  assertEquals(metrics.image_auroc_max, auroc(scores.getColumn("score_max").toArray() as number[], label));
  assertEquals(metrics.image_auroc_mean, auroc(scores.getColumn("score_mean").toArray() as number[], label));
}

Deno.test({ name: "run: depth end to end writes a complete, consistent record", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const { metrics } = await runExperiment({
    data: root3d, className: "puck", mode: "depth", epochs: 2, seed: 1, out, sets: TINY_SETS, log: quiet,
  });
  assertConsistent(out, metrics);
  for (const k of ["pixel_auroc", "aupro", "f1_max"] as const) assert(metrics[k] !== null, `${k} computed (the dataset has masks)`);
  assertEquals(metrics.mode, "depth");
  assertEquals(metrics.epochs, { teacher: 2, student: 2 });
  assert(metrics.seconds > 0 && typeof metrics.backend === "string" && metrics.threads >= 1);
  const onDisk = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
  assertEquals(onDisk.image_auroc_max, metrics.image_auroc_max);
  const scores = pl.readParquet(join(out, "scores.parquet"));
  assertEquals(scores.height, 9);
  assertEquals(scores.columns.slice(0, 5), ["path", "defect_type", "label", "score_max", "score_mean"]);
  assertEquals((scores.getColumn("label").toArray() as number[]).reduce((a, b) => a + b, 0), 6);
  const maps = await readSafetensors(join(out, "maps.safetensors"));
  assertEquals(maps.tensors.get("anomaly_maps")!.shape, [9, 64, 64]);
  const teacher = await readSafetensors(join(out, "teacher.safetensors"));
  // PyTorch layout and names: conv kernels OIHW
  assertEquals(teacher.tensors.get("net.module_list.3.s1.conv1.weight")!.shape, [8, 32 + 32, 3, 3]);
  const history = JSON.parse(await Deno.readTextFile(join(out, "history.json"))).epochs;
  assertEquals(history.map((h: { phase: string }) => h.phase), ["teacher", "teacher", "student", "student"]);
  const config = JSON.parse(await Deno.readTextFile(join(out, "config.json"))).config;
  assertEquals(config.mapLen, 8);
  // run folders are immutable
  await assertRejects(
    () => runExperiment({ data: root3d, className: "puck", mode: "depth", out, sets: TINY_SETS, log: quiet }),
    /already exists/,
  );
  await assertRejects(
    () => runExperiment({ data: root3d, className: "puck", mode: "depth", out, resume: true, log: quiet }),
    /already complete/,
  );
} });

Deno.test({ name: "run: an interrupted run resumes to the same result as an uninterrupted one", ...opts, fn: async () => {
  const base = await Deno.makeTempDir();
  const args = { data: root3d, className: "puck", mode: "depth" as const, epochs: 3, seed: 5, sets: TINY_SETS, log: quiet };
  const full = await runExperiment({ ...args, out: join(base, "full") });
  const out = join(base, "interrupted");
  await assertRejects(() =>
    runExperiment({
      ...args,
      out,
      onEpoch: (r) => {
        if (r.phase === "student" && r.epoch === 2) throw new Error("simulated interruption");
      },
    }), /simulated interruption/);
  // what was written before the interruption is intact
  const kept = await readSafetensors(join(out, "teacher.safetensors"));
  assert(kept.tensors.size > 0);
  const resumed = await runExperiment({ ...args, out, resume: true });
  const a = pl.readParquet(join(base, "full", "scores.parquet")).getColumn("score_max").toArray() as number[];
  const b = pl.readParquet(join(out, "scores.parquet")).getColumn("score_max").toArray() as number[];
  for (let i = 0; i < a.length; i++) {
    assert(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(a[i])), `score ${i}: ${a[i]} vs ${b[i]}`);
  }
  assertEquals(resumed.metrics.image_auroc_max, full.metrics.image_auroc_max);
  const history = JSON.parse(await Deno.readTextFile(join(out, "history.json"))).epochs;
  assertEquals(history.length, 6);
} });

Deno.test({ name: "run: seeds: same seed same scores, other seed other scores", ...opts, fn: async () => {
  const base = await Deno.makeTempDir();
  const args = { data: root3d, className: "puck", mode: "depth" as const, epochs: 1, sets: TINY_SETS, log: quiet };
  await runExperiment({ ...args, seed: 7, out: join(base, "a") });
  await runExperiment({ ...args, seed: 7, out: join(base, "b") });
  await runExperiment({ ...args, seed: 8, out: join(base, "c") });
  const col = (d: string) => pl.readParquet(join(base, d, "scores.parquet")).getColumn("score_max").toArray() as number[];
  assertEquals(col("a"), col("b"));
  assert(JSON.stringify(col("a")) !== JSON.stringify(col("c")));
} });

Deno.test({ name: "run: combi with the raw-patch embedding, symmetric flow student, teacher-NLL scoring", ...opts, fn: async () => {
  const base = await Deno.makeTempDir();
  const common = { data: root3d, className: "puck", mode: "combi" as const, epochs: 1, backbone: "raw-patch", log: quiet };
  const combi = await runExperiment({ ...common, out: join(base, "combi"), sets: TINY_SETS });
  assertEquals(combi.metrics.backbone, "raw-patch");
  const flow = await runExperiment({ ...common, out: join(base, "flow"), sets: [...TINY_SETS, "student.kind=flow", "student.nBlocks=2"] });
  assertConsistent(join(base, "flow"), flow.metrics);
  // the symmetric student is a flow: coupling blocks under the teacher's state-dict names
  const student = await readSafetensors(join(base, "flow", "student.safetensors"));
  assert(student.tensors.has("net.module_list.5.s2.conv2.weight") && student.tensors.has("net.module_list.4.perm") && !student.tensors.has("net.module_list.6.perm"), [...student.tensors.keys()].join(", "));
  const nll = await runExperiment({ ...common, out: join(base, "nll"), sets: [...TINY_SETS, "scoring=teacher-nll"] });
  const hist = JSON.parse(await Deno.readTextFile(join(base, "nll", "history.json"))).epochs;
  assertEquals(hist.map((h: { phase: string }) => h.phase), ["teacher"]);
  // The same seed trains the same teacher: its NLL scores are the student run's teacher_nll columns.
  const col = (dir: string, c: string) => pl.readParquet(join(base, dir, "scores.parquet")).getColumn(c).toArray() as number[];
  assertEquals(col("nll", "score_max"), col("combi", "teacher_nll_max"));
  assertEquals(nll.metrics.image_auroc_max, combi.metrics.teacher_nll!.image_auroc_max);
} });

Deno.test({ name: "run: MVTec AD layout, rgb mode, no foreground mask", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "ad");
  const { metrics } = await runExperiment({
    data: rootAd, className: "tex", mode: "rgb", epochs: 2, out, sets: TINY_SETS, log: quiet,
  });
  assertEquals(metrics.layout, "mvtecad");
  assertConsistent(out, metrics);
  assert(metrics.pixel_auroc !== null && metrics.aupro !== null, "MVTec AD masks give pixel metrics");
  const cfg = JSON.parse(await Deno.readTextFile(join(out, "config.json"))).config;
  assertEquals([cfg.trainMask, cfg.evalMask], [false, false]);
  await assertRejects(
    () => runExperiment({ data: rootAd, className: "tex", mode: "depth", out: join(out, "x"), log: quiet }),
    /no depth data: use --mode rgb/,
  );
} });

Deno.test({ name: "run: bad config overrides fail before any work", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "bad");
  const run = (sets: string[]) => runExperiment({ data: root3d, className: "puck", mode: "depth", out, sets, log: quiet });
  await assertRejects(() => run(["student.width=3"]), /unknown config key 'student.width'/);
  await assertRejects(() => run(["mapLen=abc"]), /'mapLen' must be number, got string/);
  await assertRejects(() => run(["teacher.hidden=0"]), /teacher.hidden must be an integer >= 1/);
  await assertRejects(() => runExperiment({ data: root3d, className: "nope", mode: "depth", out, log: quiet }), /nope/);
} });

Deno.test({ name: "run: --config loads a typed experiment file from experiments/", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "cfg");
  const file = new URL("../../experiments/symmetric_student.ts", import.meta.url).pathname;
  await runExperiment({ data: root3d, className: "puck", mode: "depth", epochs: 1, out, configFile: file, sets: TINY_SETS, log: quiet });
  const cfg = JSON.parse(await Deno.readTextFile(join(out, "config.json"))).config;
  assertEquals([cfg.student.kind, cfg.student.nBlocks, cfg.student.hidden], ["flow", 1, 8]);
  await assertRejects(
    () => runExperiment({ data: root3d, className: "puck", mode: "depth", out: out + "2", configFile: "/nope.ts", log: quiet }),
    /--config \/nope.ts: file not found/,
  );
} });

Deno.test({ name: "run: resident memory is recorded per epoch and summarised", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "mem");
  const { metrics } = await runExperiment({ data: root3d, className: "puck", mode: "depth", epochs: 3, out, sets: TINY_SETS, log: quiet });
  const history = JSON.parse(await Deno.readTextFile(join(out, "history.json"))).epochs;
  assert(history.every((r: { rss_mb?: number }) => typeof r.rss_mb === "number" && r.rss_mb > 0), "rss per epoch");
  assertEquals(metrics.memory.rss_peak_mb, Math.max(...history.map((r: { rss_mb: number }) => r.rss_mb)));
  assertEquals(metrics.memory.teacher!.first_epoch_mb, history[0].rss_mb);
}});
