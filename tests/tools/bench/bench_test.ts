/**
 * `deno task bench` plumbing on tiny workloads (seconds): record shape, --only, files written,
 * and the analytic FLOP counts. No timing assertions.
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../../../lib/backend/backend.ts";
import { BenchError, runBench } from "../../../tools/bench/bench.ts";
import { type BenchRecord, formatTable, mergeRecords } from "../../../tools/bench/report.ts";
import { speedIsaFlags } from "../../../lib/backend/native/cpu_flags.ts";
import type { Workload } from "../../../tools/bench/workloads.ts";
import { defaultWorkloads } from "../../../tools/bench/workloads.ts";
import { effnetB5ForwardFlops, flowForwardFlops, kernelFlops, studentForwardFlops, TRAIN_STEP_FACTOR } from "../../../tools/bench/flops.ts";
import { randomEffnetB5Weights } from "../../../tools/bench/effnet_weights.ts";
import { EfficientNetB5 } from "../../../lib/features/efficientnet/model.ts";
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { runtimeFromEnv } from "../../../lib/config/runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const FAST = { warmup: 1, minSteps: 2, maxSteps: 2, budgetSeconds: 0 };

function tinyWorkloads(): Workload[] {
  const train = { batch: 2, side: 4, channels: 6, posEncDim: 4 };
  return [
    { kind: "student", name: "student_h256", referenceMs: 881, ...train, hidden: 8, nBlocks: 1 },
    { kind: "teacher", name: "teacher_h64", referenceMs: 681, ...train, hidden: 8, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9 },
    { kind: "effnet", name: "effnet_b5_768", referenceMs: 1720, inputSize: 64, upToBlock: 3, fixtureWeights: false },
  ];
}

Deno.test({ name: "bench: tiny workloads give the contract's record, latest.json and a timestamped copy", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { record, paths } = await runBench({ workloads: tinyWorkloads(), outDir: dir, timing: FAST, log: () => {} });
    const latest = JSON.parse(await Deno.readTextFile(join(dir, "latest.json")));
    assertEquals(latest, JSON.parse(JSON.stringify(record)));
    assertEquals(paths.length, 2);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(files.length, 2);
    assert(files.some((f) => /^\d{8}T\d{6}Z\.json$/.test(f)), `timestamped copy missing: ${files}`);
    assertEquals(typeof latest.backend, "string");
    assert(Number.isInteger(latest.threads) && latest.threads >= 1);
    assertEquals(latest.demo_seconds, null);
    // every timing names its CPU (Linux: /proc/cpuinfo)
    if (Deno.build.os === "linux") assert(typeof latest.cpu?.model === "string" && Array.isArray(latest.cpu.isa), `cpu: ${JSON.stringify(latest.cpu)}`);
    assertEquals(latest.workloads.map((w: { name: string }) => w.name), ["student_h256", "teacher_h64", "effnet_b5_768"]);
    for (const w of latest.workloads) {
      for (const k of ["ms_per_step", "gflops", "reference_ms", "ratio"]) assertEquals(typeof w[k], "number", `${w.name}.${k}`);
      assert(w.ms_per_step > 0 && w.gflops > 0, `${w.name}: ${JSON.stringify(w)}`);
      assertEquals(w.steps_ms.length, 2);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test({ name: "bench: --only writes just those workloads; unknown names are refused", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { record } = await runBench({ workloads: tinyWorkloads(), only: ["teacher_h64"], outDir: dir, timing: FAST, log: () => {} });
    assertEquals(record.workloads.map((w) => w.name), ["teacher_h64"]);
    await assertRejects(() => runBench({ workloads: tinyWorkloads(), only: ["nope"], outDir: dir, log: () => {} }), BenchError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test("bench: the default workloads include end-to-end scoring at the demo and paper presets", () => {
  const score = defaultWorkloads().filter((w) => w.kind === "score");
  assertEquals(score.map((w) => w.name), ["score_demo", "score_paper"]);
  for (const w of score) assertEquals(w.referenceMs, null);
});

/** The score workloads at toy sizes: 64 px images, maps of 4 (raw patches) and 2 (EfficientNet-B5 at 64 px). */
function tinyScoreWorkloads(): Workload[] {
  const tiny = ["teacher.hidden=8", "student.hidden=8", "student.nBlocks=1", "posEncDim=4"];
  return [
    { kind: "score", name: "score_demo", referenceMs: null, preset: "demo", imageSize: 64, fixtureWeights: false, overrides: [...tiny, "mapLen=4", "backbone=raw-patch"] },
    // fixtureWeights false: exercises the seeded-random stand-in file when real weights are absent
    { kind: "score", name: "score_paper", referenceMs: null, preset: "paper", imageSize: 64, fixtureWeights: false, overrides: [...tiny, "mapLen=2"] },
  ];
}

Deno.test({ name: "bench: score workloads time features + scoring per image, report images/s and leak no tensors", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const dir = await Deno.makeTempDir();
  try {
    const before = tf.memory().numTensors;
    const { record } = await runBench({ workloads: tinyScoreWorkloads(), outDir: dir, timing: FAST, log: () => {} });
    assertEquals(tf.memory().numTensors, before);
    assertEquals(record.skipped, []);
    assertEquals(record.workloads.map((w) => w.name), ["score_demo", "score_paper"]);
    for (const w of record.workloads) {
      assert(w.ms_per_step > 0 && w.gflops > 0, JSON.stringify(w));
      assertEquals([w.reference_ms, w.ratio], [null, null]);
      assert(Math.abs(w.images_per_s! - 1000 / w.ms_per_step) / w.images_per_s! < 0.01, JSON.stringify(w));
    }
    assert(record.workloads[0].note!.includes("raw-patch at 16 px"), record.workloads[0].note!);
    assert(record.workloads[1].note!.includes("efficientnet-b5 block35 at 64 px, 368 ch"), record.workloads[1].note!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test({ name: "bench: --merge replaces the rows it ran and keeps the others with their provenance", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = (await runBench({ workloads: tinyWorkloads(), outDir: dir, timing: FAST, log: () => {} })).record;
    const { record } = await runBench({ workloads: tinyWorkloads(), only: ["teacher_h64"], merge: true, outDir: dir, timing: FAST, log: () => {} });
    assertEquals(record.workloads.map((w) => w.name), ["student_h256", "effnet_b5_768", "teacher_h64"]);
    assertEquals(record.workloads[0], first.workloads[0]);
    assertEquals(record.merged_from, [{ date: first.date, loadavg: first.loadavg, workloads: ["student_h256", "effnet_b5_768"] }]);
    assertEquals(JSON.parse(await Deno.readTextFile(join(dir, "latest.json"))), JSON.parse(JSON.stringify(record)));
    // a record from another backend is not merged into
    await Deno.writeTextFile(join(dir, "latest.json"), JSON.stringify({ ...first, backend: "other" }));
    await assertRejects(() => runBench({ workloads: tinyWorkloads(), only: ["teacher_h64"], merge: true, outDir: dir, log: () => {} }), BenchError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test("bench: mergeRecords carries earlier provenance and lets a new skip replace an old row", () => {
  const row = (name: string) => ({ name, ms_per_step: 1, gflops: 1, reference_ms: null, ratio: null, steps_ms: [1] });
  const rec = (date: string, names: string[], extra: Partial<BenchRecord> = {}): BenchRecord => ({
    backend: "wasm", threads: 2, workloads: names.map(row), demo_seconds: null, skipped: [], loadavg: { start: date, end: date }, date, ...extra,
  });
  const a = mergeRecords(rec("d1", ["x", "y", "z"], { demo_seconds: 5 }), rec("d2", ["y"]));
  const b = mergeRecords(a, rec("d3", [], { skipped: [{ name: "x", reason: "failed" }] }));
  assertEquals(b.workloads.map((w) => w.name), ["z", "y"]);
  assertEquals(b.skipped, [{ name: "x", reason: "failed" }]);
  assertEquals(b.merged_from!.map((m) => [m.date, m.workloads]), [["d1", ["z"]], ["d2", ["y"]]]);
  assertEquals(b.demo_seconds, 5);
  assertEquals(b.date, "d3");
});

Deno.test("bench: the table's header names the CPU and its ISA flags; older records without them still print", () => {
  const rec: BenchRecord = { backend: "wasm", threads: 2, workloads: [], demo_seconds: null, skipped: [], loadavg: { start: "0", end: "0" }, date: "d" };
  assert(!formatTable(rec).includes("cpu "));
  const lines = formatTable({ ...rec, cpu: { model: "Some CPU @ 2.0GHz", isa: ["avx2", "fma", "avx512f"] } }).split("\n");
  assertEquals(lines[1], "cpu Some CPU @ 2.0GHz (avx2 fma avx512f)");
  assertEquals(speedIsaFlags(new Set(["fpu", "amx_tile", "avx2", "fma", "avx512_bf16"])), ["avx2", "fma", "avx512_bf16", "amx_tile"]);
});

Deno.test("bench FLOPs: the issue's hidden-1024 student is ~2.3 TFLOP per training step", () => {
  const w = defaultWorkloads().find((w) => w.name === "student_h1024")!;
  assert(w.kind === "student");
  const tflop = TRAIN_STEP_FACTOR * studentForwardFlops(w, w.batch, w.side) / 1e12;
  assert(Math.abs(tflop - 2.283) < 0.01, `${tflop}`);
  // teacher hidden 64: 4 blocks x 2 subnets, kernels 3,3,3,5
  const per = (k: number) => 2 * 8 * 576 * k * k * (216 * 64 + 64 * 368) * 2;
  assertEquals(flowForwardFlops({ channels: 368, hidden: 64, nBlocks: 4, kernelSizes: [3, 3, 3, 5], posEncDim: 32 }, 8, 24), 3 * per(3) + per(5));
});

Deno.test({ name: "bench FLOPs: EfficientNet-B5 analytic count matches the kernels it runs", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const model = EfficientNetB5.fromReferenceWeights(randomEffnetB5Weights(6), { upToBlock: 6 });
  const x = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
  const profile = await tf.profile(async () => {
    const out = model.forward(x, [6]);
    await out.get(6)!.data();
    tf.dispose([...out.values()]);
  });
  const counted = profile.kernels.reduce((s, k) => s + kernelFlops(k.name, k.inputShapes, k.outputShapes), 0);
  const analytic = effnetB5ForwardFlops(64, 6);
  assert(Math.abs(counted - analytic) / analytic < 1e-9, `profiled ${counted} vs analytic ${analytic}`);
  x.dispose();
  model.dispose();
} });

Deno.test({ name: "bench: isolated mode measures a default workload in a subprocess (row with rss_mb, or a skip naming the reason)", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const { record } = await runBench({ only: ["mobilenet_v2"], isolate: true, outDir: dir, timing: FAST, log: (l) => lines.push(l) });
    const row = record.workloads.find((w) => w.name === "mobilenet_v2");
    const skip = record.skipped.find((w) => w.name === "mobilenet_v2");
    assert(row != null || skip != null, `neither row nor skip: ${JSON.stringify(record)}`);
    if (row) {
      assert(typeof row.rss_mb === "number" && row.rss_mb > 0, `rss_mb ${row.rss_mb}`);
      assert(lines.some((l) => /step \d+ ms/.test(l)), "the subprocess's progress lines are passed on");
    } else {
      assert(/weights/.test(skip!.reason), skip!.reason); // no MobileNetV2 weights on this machine
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test({ name: "bench: host stages (metrics of a test set, 3D preprocessing of an 800 px map) are measured, not asserted in unit tests", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const host = defaultWorkloads().filter((w) => w.kind === "host");
    assertEquals(host.map((w) => w.name), ["metrics_mvtec", "depth_800"]);
    const { record } = await runBench({ workloads: host, outDir: dir, timing: { ...FAST, minSteps: 1, maxSteps: 1 }, log: () => {} });
    assertEquals(record.workloads.map((w) => [w.name, w.gflops, w.images_per_s === undefined]), [["metrics_mvtec", 0, true], ["depth_800", 0, false]]);
    for (const w of record.workloads) assert(/no FLOP count/.test(w.note!), w.note ?? "no note");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });
