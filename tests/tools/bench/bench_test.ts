/**
 * `deno task bench` plumbing on tiny workloads (seconds): record shape, --only, files written,
 * and the analytic FLOP counts. No timing assertions.
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../../../lib/backend/backend.ts";
import { BenchError, DEFAULT_PYTHON, main as benchMain, parsePrecisions, runBench, torchSpec } from "../../../tools/bench/bench.ts";
import type { Precision } from "../../../lib/config/ast_config.ts";
import { type BenchRecord, formatTable, mergeRecords } from "../../../tools/bench/report.ts";
import { speedIsaFlags } from "../../../lib/backend/native/cpu_flags.ts";
import { DEFAULT_BENCH_ENV, defaultWorkloads, type Workload } from "../../../tools/bench/workloads.ts";
import {
  effnetB5ForwardFlops,
  flowForwardFlops,
  kernelFlops,
  squeezeExcitationFlops,
  studentForwardFlops,
  TRAIN_STEP_FACTOR,
} from "../../../tools/bench/flops.ts";
import { randomEffnetB5Weights } from "../../../tools/bench/effnet_weights.ts";
import { prepareScore, scoreBackboneName, type ScoreWorkload } from "../../../tools/bench/score_workload.ts";
import { EfficientNetB5 } from "../../../lib/features/efficientnet/model.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { runtimeFromEnv } from "../../../lib/config/runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const FAST = { warmup: 1, minSteps: 2, maxSteps: 2, budgetSeconds: 0 };
/** an interpreter that does not exist: the PyTorch columns are then null with a note */
const NO_PYTHON = "/nonexistent/ast-bench/python3";

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
    const { record, paths } = await runBench({ workloads: tinyWorkloads(), outDir: dir, timing: FAST, log: () => {}, python: NO_PYTHON });
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
    // no PyTorch: the same-run reference columns are null, the record says why; issue 5's constants only under their own name
    assertEquals(latest.torch.available, false);
    assert(latest.torch.note.includes(NO_PYTHON) && latest.reference.startsWith("none"), JSON.stringify([latest.torch, latest.reference]));
    assertEquals(latest.precisions, ["fp32"]);
    assertEquals(latest.workloads.map((w: { reference_ms_issue5: number }) => w.reference_ms_issue5), [881, 681, 1720]);
    for (const w of latest.workloads) {
      assertEquals(w.precision, "fp32");
      for (const k of ["ms_per_step", "gflops"]) assertEquals(typeof w[k], "number", `${w.name}.${k}`);
      for (const k of ["reference_ms", "ratio", "torch_fp32_ms", "torch_bf16_ms", "ratio_fp32", "ratio_bf16"]) assertEquals(w[k], null, `${w.name}.${k}`);
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
    const { record } = await runBench({ workloads: tinyWorkloads(), only: ["teacher_h64"], outDir: dir, timing: FAST, log: () => {}, python: null });
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
    const { record } = await runBench({ workloads: tinyScoreWorkloads(), outDir: dir, timing: FAST, log: () => {}, python: null });
    assertEquals(tf.memory().numTensors, before);
    assertEquals(record.skipped, []);
    assertEquals(record.workloads.map((w) => w.name), ["score_demo", "score_paper"]);
    for (const w of record.workloads) {
      assert(w.ms_per_step > 0 && w.gflops > 0, JSON.stringify(w));
      assertEquals([w.reference_ms, w.ratio], [null, null]);
      assert(Math.abs(w.images_per_s! - 1000 / w.ms_per_step) / w.images_per_s! < 0.01, JSON.stringify(w));
      // the network part alone (what the PyTorch ratios compare): timed, its median recorded
      assert(w.network_ms! > 0 && w.network_steps_ms!.length >= 1, JSON.stringify(w));
      const sorted = [...w.network_steps_ms!].sort((a, b) => a - b);
      assert(sorted[0] <= w.network_ms! && w.network_ms! <= sorted.at(-1)!, JSON.stringify(w));
    }
    assert(record.workloads[0].note!.includes("raw-patch at 16 px"), record.workloads[0].note!);
    assert(record.workloads[1].note!.includes("efficientnet-b5 block35 at 64 px, 368 ch"), record.workloads[1].note!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test({ name: "bench: a score workload's network step (image decoded, depth preprocessed beforehand) scores each image as the end-to-end step does", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  for (const w of tinyScoreWorkloads()) {
    const bench = await prepareScore(w as ScoreWorkload, DEFAULT_BENCH_ENV);
    try {
      // both cycle through the same images from the first: the i-th calls score the same image
      for (let i = 0; i < 3; i++) {
        const a = await bench.step(), b = await bench.networkStep();
        assertEquals([...b.scoreMax, ...b.scoreMean], [...a.scoreMax, ...a.scoreMean], `${w.name}, image ${i}`);
        assertEquals(b.maps, a.maps, `${w.name}, image ${i}: maps`);
      }
    } finally {
      await bench.dispose();
    }
  }
} });

Deno.test({ name: "bench: --merge replaces the rows it ran and keeps the others with their provenance", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = (await runBench({ workloads: tinyWorkloads(), outDir: dir, timing: FAST, log: () => {}, python: null })).record;
    const { record } = await runBench({ workloads: tinyWorkloads(), only: ["teacher_h64"], merge: true, outDir: dir, timing: FAST, log: () => {}, python: null });
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
  // the squeeze-excitation's dense layers run in JS (lib/features/efficientnet/model.ts seGate): no kernel
  const inJs = [0, 1, 2, 3, 4, 5, 6].reduce((s, b) => s + squeezeExcitationFlops(b), 0);
  const counted = profile.kernels.reduce((s, k) => s + kernelFlops(k.name, k.inputShapes, k.outputShapes), 0) + inJs;
  const analytic = effnetB5ForwardFlops(64, 6);
  assert(Math.abs(counted - analytic) / analytic < 1e-9, `profiled ${counted} vs analytic ${analytic}`);
  x.dispose();
  model.dispose();
} });

Deno.test({ name: "bench: isolated mode measures a default workload in a subprocess (row with rss_mb, or a skip naming the reason)", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const { record } = await runBench({ only: ["mobilenet_v2"], isolate: true, outDir: dir, timing: FAST, log: (l) => lines.push(l), python: null });
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
    const { record } = await runBench({ workloads: host, outDir: dir, timing: { ...FAST, minSteps: 1, maxSteps: 1 }, log: () => {}, python: null });
    assertEquals(record.workloads.map((w) => [w.name, w.gflops, w.images_per_s === undefined]), [["metrics_mvtec", 0, true], ["depth_800", 0, false]]);
    for (const w of record.workloads) assert(/no FLOP count/.test(w.note!), w.note ?? "no note");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

// ---- issue 17: precisions and the same-run PyTorch reference

Deno.test("bench: --precision parses fp32, bf16 and both, in order, without repeats; anything else is refused", () => {
  assertEquals(parsePrecisions(undefined), ["fp32"]);
  assertEquals(parsePrecisions("bf16"), ["bf16"]);
  assertEquals(parsePrecisions("fp32,bf16"), ["fp32", "bf16"]);
  assertEquals(parsePrecisions(" bf16 , fp32,bf16"), ["bf16", "fp32"]);
  for (const bad of ["", "fp16", "fp32,int8", ","]) assertThrows(() => parsePrecisions(bad), BenchError);
});

Deno.test({ name: "bench: a bad --precision exits before any workload", ...opts, fn: async () => {
  await assertRejects(() => benchMain(["--only", "student_h256", "--precision", "fp16", "--out", "/nonexistent"]), BenchError);
} });

Deno.test({ name: "bench: fp32,bf16 gives a row (or a skip naming the reason) per workload and precision", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { record } = await runBench({
      workloads: [...tinyWorkloads(), ...defaultWorkloads().filter((w) => w.name === "depth_800")],
      only: ["student_h256", "depth_800"],
      precisions: ["fp32", "bf16"],
      outDir: dir,
      timing: { ...FAST, minSteps: 1, maxSteps: 1 },
      log: () => {},
      python: NO_PYTHON,
    });
    assertEquals(record.precisions, ["fp32", "bf16"]);
    const rowOrSkip = (name: string, p: string) =>
      record.workloads.find((w) => w.name === name && w.precision === p) ?? record.skipped.find((s) => s.name === name && s.precision === p);
    for (const name of ["student_h256", "depth_800"]) for (const p of ["fp32", "bf16"]) assert(rowOrSkip(name, p), `${name} ${p}: ${JSON.stringify(record)}`);
    assert(record.workloads.some((w) => w.name === "student_h256" && w.precision === "fp32"));
    // the host stages have no convolutions: no bf16 row
    assert(/no convolutions/.test(record.skipped.find((s) => s.name === "depth_800" && s.precision === "bf16")!.reason));
    const bf16 = record.workloads.find((w) => w.name === "student_h256" && w.precision === "bf16");
    const skip = record.skipped.find((s) => s.name === "student_h256" && s.precision === "bf16");
    if (bf16) assert(/bf16/.test(bf16.onednn_impls ?? ""), `bf16 row without bf16 plans: ${bf16.onednn_impls}`);
    else assert(/bf16/.test(skip!.reason), skip!.reason);
    for (const w of record.workloads) assertEquals([w.torch_fp32_ms, w.torch_bf16_ms, w.ratio_fp32, w.ratio_bf16], [null, null, null, null]);
    const table = formatTable(record);
    assert(/prec/.test(table) && /torch fp32/.test(table) && /reference: none/.test(table), table);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} });

Deno.test("bench: mergeRecords replaces a workload's row at the precision measured and keeps its other precision", () => {
  const row = (name: string, precision: "fp32" | "bf16", ms: number) => ({ name, precision, ms_per_step: ms, gflops: 1, reference_ms: null, ratio: null, steps_ms: [ms] });
  const rec = (date: string, workloads: ReturnType<typeof row>[]): BenchRecord => ({
    backend: "wasm", threads: 2, workloads, demo_seconds: null, skipped: [], loadavg: { start: date, end: date }, date,
  });
  const m = mergeRecords(rec("d1", [row("s", "fp32", 1), row("s", "bf16", 2)]), rec("d2", [row("s", "bf16", 3)]));
  assertEquals(m.workloads.map((w) => [w.precision, w.ms_per_step]), [["fp32", 1], ["bf16", 3]]);
  assertEquals(m.merged_from, [{ date: "d1", loadavg: { start: "d1", end: "d1" }, workloads: ["s"] }]);
});

const torchImports = await (async () => {
  try {
    return (await new Deno.Command(DEFAULT_PYTHON, { args: ["-c", "import torch, torchvision"], stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
})();
const TORCH_SCRIPT = new URL("../../../tools/bench/torch_reference.py", import.meta.url).pathname;

Deno.test({
  name: "torch_reference.py: tiny student, teacher and EfficientNet-B5 in fp32 and bf16; conv MACs agree with flops.ts",
  ignore: !torchImports,
  ...opts,
  fn: async () => {
    const specs = tinyWorkloads().map((w) => torchSpec(w));
    const run = async (workloads: unknown[]) => {
      const out = await new Deno.Command(DEFAULT_PYTHON, {
        args: [TORCH_SCRIPT, "--workloads", JSON.stringify(workloads), "--precision", "fp32,bf16", "--threads", "1", "--budget", "0", "--min-steps", "1", "--max-steps", "1", "--no-isa-probe"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, lines: new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l)) };
    };
    const { code, lines } = await run(specs);
    assertEquals(code, 0);
    assert(typeof lines[0].torch_version === "string", JSON.stringify(lines[0]));
    assertEquals(lines.slice(1).map((l) => `${l.name}@${l.precision}`), ["student_h256", "teacher_h64", "effnet_b5_768"].flatMap((n) => [`${n}@fp32`, `${n}@bf16`]));
    for (const l of lines.slice(1)) {
      assert(l.ms_per_step > 0 && l.steps_ms.length === 1, JSON.stringify(l));
      assert(Math.abs(l.torch_gflops - l.analytic_gflops) <= 0.05 * l.analytic_gflops, JSON.stringify(l));
    }
    // a FLOP count that does not match is an error line for that workload, and a failing exit
    const wrong = await run([{ ...specs[0], analytic_gflops: 2 * (specs[0]!.analytic_gflops as number) }]);
    assertEquals(wrong.code, 1);
    assert(/differ from the analytic/.test(wrong.lines[1].error), JSON.stringify(wrong.lines));
  },
});

/** One step per workload of `only` at `precisions`, with the same-run PyTorch reference, in a temp dir. */
async function torchBench(workloads: Workload[], only: string[], precisions: Precision[], log: (line: string) => void = () => {}): Promise<BenchRecord> {
  const dir = await Deno.makeTempDir();
  try {
    const timing = { ...FAST, minSteps: 1, maxSteps: 1 };
    return (await runBench({ workloads, only, precisions, outDir: dir, timing, log, python: DEFAULT_PYTHON })).record;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "bench: with PyTorch, the rows carry the same-run torch columns and reference_ms is PyTorch fp32",
  ignore: !torchImports,
  ...opts,
  fn: async () => {
    const record = await torchBench(tinyWorkloads(), ["teacher_h64"], ["fp32"]);
    assert(record.torch?.available && /^PyTorch .* fp32, same run/.test(record.reference!), JSON.stringify([record.torch, record.reference]));
    const [w] = record.workloads;
    assert(w.torch_fp32_ms! > 0 && w.reference_ms === w.torch_fp32_ms, JSON.stringify(w));
    assertEquals(w.ratio_fp32, Math.round((w.ms_per_step / w.torch_fp32_ms!) * 1000) / 1000);
    assertEquals(w.ratio, w.ratio_fp32);
    assertEquals([w.torch_bf16_ms, w.ratio_bf16], [null, null]); // bf16 not asked
    assertEquals(w.torch_steps_ms?.fp32?.length, 1);
  },
});

Deno.test({
  name: "bench: PyTorch times each workload right after ours, before the next workload starts; one torch record for the run",
  ignore: !torchImports,
  ...opts,
  fn: async () => {
    const lines: string[] = [];
    const record = await torchBench(tinyWorkloads(), ["student_h256", "teacher_h64"], ["fp32"], (l) => lines.push(l));
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const ours = [at(/^ {2}student_h256: /), at(/^ {2}teacher_h64: /)];
    const theirs = [at(/^ {2}torch student_h256 fp32: /), at(/^ {2}torch teacher_h64 fp32: /)];
    assert([...ours, ...theirs].every((i) => i >= 0), lines.join("\n"));
    assert(ours[0] < theirs[0] && theirs[0] < ours[1] && ours[1] < theirs[1], `order ${[ours[0], theirs[0], ours[1], theirs[1]]}:\n${lines.join("\n")}`);
    assert(record.torch?.available && record.torch.version && !record.torch.note, JSON.stringify(record.torch));
    assert(/after each workload/.test(record.reference!), String(record.reference));
    assert(record.workloads.every((w) => w.torch_fp32_ms! > 0), JSON.stringify(record.workloads));
  },
});

// ---- the PyTorch reference of the score workloads

Deno.test("bench: torchSpec of the score workloads carries the resolved combi shapes and conv GFLOPs", () => {
  const [demo, paper] = defaultWorkloads().filter((w) => w.kind === "score");
  const teacher = { hidden: 64, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9 };
  const common = { kind: "score", depthChannels: 64, posEncDim: 32, teacher, evalMask: true };
  const p = torchSpec(paper, "efficientnet-b5")!;
  assertEquals({ ...p, analytic_gflops: 0 }, {
    ...paper, ...common, backbone: "efficientnet-b5", backboneBlock: 35, backboneInput: 768, backboneChannels: 304,
    resize: "bilinear-antialias", normalise: "imagenet", mapLen: 24, outSize: 192,
    student: { hidden: 1024, nBlocks: 4, leakySlope: 0.01 }, analytic_gflops: 0,
  });
  const net = { channels: 368, posEncDim: 32 };
  const want = effnetB5ForwardFlops(768, 35) + flowForwardFlops({ ...net, ...teacher }, 1, 24) + studentForwardFlops({ ...net, hidden: 1024, nBlocks: 4 }, 1, 24);
  assert(Math.abs((p.analytic_gflops as number) - want / 1e9) < 1e-9, `${p.analytic_gflops} vs ${want / 1e9}`);
  // the demo: the bundled MobileNetV2 alpha 0.35 at block_12_add (256 px, 32 ch), or raw-patch when its weights are missing
  const d = torchSpec(demo, "mobilenet_v2")!;
  assertEquals(d, {
    ...demo, ...common, backbone: "mobilenet_v2", backboneBlock: 12, backboneInput: 256, backboneChannels: 32,
    resize: "area", normalise: "unit-range", mapLen: 16, outSize: 128, student: { hidden: 128, nBlocks: 2, leakySlope: 0.01 }, analytic_gflops: null,
  });
  const raw = torchSpec(demo, "raw-patch")!;
  assertEquals([raw.backbone, raw.backboneBlock, raw.backboneInput, raw.backboneChannels, raw.resize, raw.normalise], ["raw-patch", null, 64, 48, "area", "imagenet"]);
  assert((raw.analytic_gflops as number) > 0);
  // overrides reach the spec; a model PyTorch has no version of gives none
  const tiny = torchSpec(tinyScoreWorkloads()[1])!;
  assertEquals([tiny.mapLen, tiny.posEncDim, tiny.backboneInput, tiny.outSize, (tiny.teacher as { hidden: number }).hidden, tiny.student], [2, 4, 64, 16, 8, { hidden: 8, nBlocks: 1, leakySlope: 0.01 }]);
  assertEquals(torchSpec({ ...demo, overrides: ["layer=block_13_expand_relu"] }, "mobilenet_v2"), null);
  assertEquals(torchSpec({ ...paper, overrides: ["scoring=teacher-nll"] })!.student, null);
});

Deno.test({ name: "bench: a score workload's PyTorch backbone is the one its run resolves (fallback preset without weights: raw-patch)", ...opts, fn: async () => {
  const [demo, paper] = defaultWorkloads().filter((w) => w.kind === "score");
  const empty = await Deno.makeTempDir();
  try {
    assertEquals(await scoreBackboneName(paper, empty), "efficientnet-b5"); // stand-in weights, never a fallback
    assertEquals(await scoreBackboneName(demo), "mobilenet_v2"); // bundled in data/pretrained
    assertEquals(await scoreBackboneName({ ...demo, overrides: ["backbone=raw-patch"] }, empty), "raw-patch");
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
} });

if (!torchImports) console.warn(`torch_reference.py score tests skipped: ${DEFAULT_PYTHON} cannot import torch and torchvision`);

Deno.test({
  name: "torch_reference.py: tiny score workloads (raw-patch and EfficientNet-B5) in fp32 and bf16; a line per workload and precision with the note",
  ignore: !torchImports,
  ...opts,
  fn: async () => {
    const specs = tinyScoreWorkloads().map((w) => torchSpec(w));
    const out = await new Deno.Command(DEFAULT_PYTHON, {
      args: [TORCH_SCRIPT, "--workloads", JSON.stringify(specs), "--precision", "fp32,bf16", "--threads", "1", "--budget", "0", "--min-steps", "1", "--max-steps", "2", "--no-isa-probe"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(lines.slice(1).map((l) => `${l.name}@${l.precision}`), ["score_demo@fp32", "score_demo@bf16", "score_paper@fp32", "score_paper@bf16"]);
    for (const l of lines.slice(1)) {
      assertEquals(Object.keys(l).sort(), ["analytic_gflops", "memory_format", "ms_per_step", "name", "note", "precision", "steps_ms", "torch_gflops"]);
      assert(l.ms_per_step > 0 && l.steps_ms.length >= 1 && l.steps_ms.length <= 2, JSON.stringify(l));
      // the analytic count (backbone + teacher + student) agrees with the torch model's convs
      assert(l.analytic_gflops > 0 && Math.abs(l.torch_gflops - l.analytic_gflops) <= 0.05 * l.analytic_gflops, JSON.stringify(l));
      assert(/network part only/.test(l.note) && /no PNG\/TIFF decode/.test(l.note) && /64 px .* resized to/.test(l.note), l.note);
    }
    // a spec whose backbone shapes do not match the network is that workload's error, not a wrong timing
    const bad = await new Deno.Command(DEFAULT_PYTHON, {
      args: [TORCH_SCRIPT, "--workloads", JSON.stringify([{ ...specs[1], backboneChannels: 300, analytic_gflops: null }]), "--precision", "fp32", "--budget", "0", "--min-steps", "1", "--max-steps", "1"],
      stdout: "piped",
      stderr: "null",
    }).output();
    assertEquals(bad.code, 1);
    assert(/the spec says/.test(JSON.parse(new TextDecoder().decode(bad.stdout).trim().split("\n")[1]).error));
  },
});

Deno.test({
  name: "bench: with PyTorch, score rows carry the torch columns and the note that PyTorch times the network part only",
  ignore: !torchImports,
  ...opts,
  fn: async () => {
    const record = await torchBench(tinyScoreWorkloads(), ["score_demo"], ["fp32", "bf16"]);
    const w = record.workloads.find((w) => w.precision === "fp32")!;
    assert(w.torch_fp32_ms! > 0 && w.torch_bf16_ms! > 0 && w.reference_ms === w.torch_fp32_ms, JSON.stringify(w));
    // score rows compare the network part alone with PyTorch's step
    assertEquals(w.ratio_bf16, Math.round((w.network_ms! / w.torch_bf16_ms!) * 1000) / 1000);
    assertEquals(w.ratio_fp32, Math.round((w.network_ms! / w.torch_fp32_ms!) * 1000) / 1000);
    assert(/network part only/.test(w.torch_note ?? ""), JSON.stringify(w));
    assert(formatTable(record).split("\n").some((l) => l.startsWith("score_demo") && l.includes("torch: PyTorch times the network part only")), formatTable(record));
  },
});
