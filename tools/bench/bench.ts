/**
 * `deno task bench`: the speed issue's workloads on the active backend (AST_BACKEND /
 * AST_THREADS as everywhere), written to results/bench/latest.json and a timestamped copy.
 *
 * tools/bench holds the benchmark and the measuring tools around it: this CLI (bench.ts) with
 * its workloads (workloads.ts, score_workload.ts, effnet_weights.ts), FLOP counts (flops.ts)
 * and record (report.ts); the per-kernel profiler (kernel_profile.ts, CLI profile.ts); and
 * stand-alone measurements (measure_backend_conv.ts, measure_native_conv.ts,
 * measure_extraction.ts); and the same-run PyTorch reference (torch_reference.py). Tools may import lib/ (tools -> lib); nothing in lib/ imports tools/
 * (lib -> tools never). The environment ($AST_SHARED_DIR) is read by the entry points' `main`
 * and passed down; lib reads its own (AST_BACKEND, AST_THREADS, AST_WEIGHTS_DIR ...).
 *
 *   deno task bench                                # every workload, then the demo's wall time
 *   deno task bench --only student_h256,teacher_h64   # a subset (add `demo` for the demo)
 *   deno task bench --no-demo                      # every workload, no demo
 *   deno task bench --only score_demo,score_paper --merge   # replace just those rows in latest.json
 *   deno task bench --only student_h256 --precision fp32,bf16   # our convolutions in fp32, then bf16
 *   options: --out DIR  --budget SECONDS  --min-steps N  --max-steps N  --warmup N  --merge
 *            --precision fp32|bf16|fp32,bf16 (default fp32)  --no-torch
 *
 * Precision: every workload runs once per precision asked, the active oneDNN library set to it in
 * the measuring process (rows carry `precision`); bf16 where the CPU or oneDNN has no bf16
 * kernels, or the convolutions are not oneDNN's, is skipped with the reason.
 *
 * Reference: when `$AST_BENCH_PYTHON` (default /usr/bin/python3, Debian's python3-torch) imports
 * torch, tools/bench/torch_reference.py times the training workloads, effnet_b5_768 and the score
 * workloads in PyTorch right after ours, workload by workload (so that both see the host in the
 * same minutes: these machines' speed drifts, e.g. SGEMM 96 -> 159 GFLOP/s within one run), at
 * the same thread count and precisions:
 * `torch_fp32_ms`, `torch_bf16_ms`, `ratio_fp32`, `ratio_bf16`; `reference_ms` / `ratio` are the
 * PyTorch fp32 ones (the record's `reference` says so). The score rows' PyTorch step is the network
 * part only (resize of the image tensor, backbone, teacher, student, map, scores; no PNG/TIFF decode
 * or depth preprocessing): their ratios use our same part, timed alone (`network_ms`), and their
 * `torch_note` says what PyTorch times. Without torch these are null and `torch.note` says why.
 * The speed issue's old constants stay only as `reference_ms_issue5` (not same-run: never compare).
 *
 * Each workload runs in its own subprocess (a fresh heap and native caches), the steps' median
 * after warm-up is reported with the process's resident memory.
 *
 * --merge: the new rows (and skips) replace those of the same name in the existing latest.json,
 * the others are kept (listed under `merged_from` with their run's date and load); refused when
 * that file is from another backend or thread count.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "../../lib/util/project.ts";
import { initBackend } from "../../lib/backend/backend.ts";
import { loadOpenBlas } from "../../lib/backend/native/openblas.ts";
import { cpuModelName, speedIsaFlags } from "../../lib/backend/native/cpu_flags.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import {
  type BenchEnv,
  DEFAULT_BENCH_ENV,
  DEFAULT_TIMING,
  defaultWorkloads,
  measureWorkload,
  type Outcome,
  type TimingOptions,
  type Workload,
} from "./workloads.ts";
import {
  type BenchCpu,
  type BenchRecord,
  formatTable,
  loadAverage,
  makeRow,
  mergeRecords,
  round,
  type TorchInfo,
  type WorkloadRow,
  writeRecord,
} from "./report.ts";
import { effnetB5ForwardFlops, flowForwardFlops, studentForwardFlops, TRAIN_STEP_FACTOR } from "./flops.ts";
import { nativeConvolutionsActive } from "../../lib/backend/native/kernels.ts";
import { OneDnnConvolutions } from "../../lib/backend/native/onednn/conv.ts";
import { PRECISIONS, type Precision } from "../../lib/config/ast_config.ts";
import { DEFAULT_SHARED_DIR } from "./effnet_weights.ts";
import { scoreBackboneName, scoreTorchSpec } from "./score_workload.ts";
import { runArgs } from "../tasks/task_flags.ts";

export interface BenchOptions {
  /** default: defaultWorkloads() */
  workloads?: Workload[];
  /** names to run (others are not run and not written); unknown names are an error */
  only?: string[];
  /** also time `deno task demo` as a subprocess (`demo_seconds`) */
  demo?: boolean;
  /** default results/bench under the project */
  outDir?: string;
  /** merge into the existing `<outDir>/latest.json` instead of replacing it */
  merge?: boolean;
  /**
   * measure each default workload in its own subprocess (`deno task bench` does): one
   * workload's heap growth and native caches then cannot slow the next (measured: the hidden-64
   * teacher 885 ms after the hidden-1024 runs in the same process, 736 ms alone)
   */
  isolate?: boolean;
  timing?: Partial<TimingOptions>;
  /** where the EfficientNet-B5 fixture weights are looked for and the runtime options (main reads them from the environment) */
  env?: BenchEnv;
  log?: (line: string) => void;
  /** precisions to run every workload in, in order (default ["fp32"]) */
  precisions?: Precision[];
  /**
   * the interpreter for the same-run PyTorch reference (main: $AST_BENCH_PYTHON or
   * /usr/bin/python3); null: no reference (columns null with a note)
   */
  python?: string | null;
}

export const DEFAULT_PYTHON = "/usr/bin/python3";

export class BenchError extends Error {}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Wall seconds of `deno task demo` run from the project root, or null (with a reason) on failure. */
async function timeDemo(log: (s: string) => void): Promise<{ seconds: number | null; reason?: string }> {
  log("running `deno task demo` (about 7 minutes) ...");
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), { args: ["task", "demo"], cwd: PROJECT_ROOT, stdout: "inherit", stderr: "inherit" }).spawn();
  const status = await child.status;
  const seconds = (performance.now() - t0) / 1000;
  return status.success ? { seconds } : { seconds: null, reason: `deno task demo exited with code ${status.code}` };
}

/**
 * The host's current speed: median GFLOP/s of an OpenBLAS SGEMM of the student's forward shape
 * (4608 x 256 x 2304, 5.4 GFLOP), or null without OpenBLAS. Shared machines drift by 20-30% over
 * minutes; recorded before and after the workloads so a record says which phase it saw.
 */
function hostSgemmGflops(): number | null {
  const { blas } = loadOpenBlas(runtimeFromEnv().backend.nativeEnv);
  if (!blas) return null;
  const threads = blas.threads();
  blas.setThreads(navigator.hardwareConcurrency || 1);
  const m = 4608, n = 256, k = 2304;
  const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(k * n).fill(0.25), c = new Float32Array(m * n);
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    blas.sgemm(false, false, m, n, k, 1, a, b, 0, c);
    if (i >= 2) times.push(performance.now() - t0);
  }
  blas.setThreads(threads);
  times.sort((x, y) => x - y);
  return Math.round((2 * m * n * k) / 1e6 / times[times.length >> 1]);
}

/** The CPU the timings run on (`cpu`), or nothing when /proc/cpuinfo cannot be read (not Linux). */
function benchCpu(): { cpu?: BenchCpu } {
  const model = cpuModelName();
  return model ? { cpu: { model, isa: speedIsaFlags() } } : {};
}

const MEASURE_FLAG = "--measure-one";

/** Runs `bench.ts --measure-one NAME` (same timing) and reads its result (the last stdout line). */
async function measureInSubprocess(name: string, precision: Precision, t: TimingOptions, log: (s: string) => void): Promise<Outcome> {
  const args = [...runArgs("bench", fileURLToPath(import.meta.url)), MEASURE_FLAG, name, "--precision", precision,
    "--warmup", String(t.warmup), "--min-steps", String(t.minSteps), "--max-steps", String(t.maxSteps), "--budget", String(t.budgetSeconds)];
  const child = new Deno.Command(Deno.execPath(), { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped" }).spawn();
  // progress lines (stderr) pass through as they come
  const progress = (async () => {
    let buffered = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) log(line);
    }
  })();
  const out = await new Response(child.stdout).text();
  const status = await child.status;
  await progress;
  const last = out.trim().split("\n").pop() ?? "";
  if (!status.success || !last.startsWith("{")) throw new Error(`measuring ${name} in a subprocess failed (exit code ${status.code})`);
  return JSON.parse(last);
}

/** Child side of measureInSubprocess: one workload, progress on stderr, the result as JSON on stdout. */
async function measureOne(name: string, precision: Precision, timing: Partial<TimingOptions>, env: BenchEnv): Promise<void> {
  await initBackend(env.runtime.backend);
  const w = defaultWorkloads().find((x) => x.name === name);
  if (!w) throw new BenchError(`unknown workload ${name}`);
  const r = await measureAtPrecision(w, precision, {
    ...DEFAULT_TIMING,
    ...timing,
    onStep: (ms, warm) => console.error(`    ${warm ? "warm-up" : "step"} ${ms.toFixed(0)} ms (load ${loadAverage()})`),
  }, env);
  console.log(JSON.stringify({ ...r, rssMb: Math.round(Deno.memoryUsage().rss / 2 ** 20) }));
}

/**
 * Why `w` cannot run at `precision` here, or null: bf16 needs the active convolutions to be
 * oneDNN's with bf16 kernels (bf16Support()); the host workloads have no convolutions.
 */
function precisionRefusal(w: Workload, precision: Precision): string | null {
  if (precision === "fp32") return null;
  if (w.kind === "host") return "bf16: no convolutions in this workload (JS loops)";
  const lib = nativeConvolutionsActive()?.lib;
  if (!(lib instanceof OneDnnConvolutions)) return `bf16: the convolutions are ${lib ? lib.name : "the wasm backend's own"}, not oneDNN's`;
  const support = lib.bf16Support();
  return support.supported ? null : `bf16 unsupported here: ${support.reason}`;
}

/**
 * Times `w` with the active oneDNN library at `precision` (restored to fp32 after), adding the
 * implementations its convolutions used; skipped with the reason where the precision cannot run.
 */
export async function measureAtPrecision(w: Workload, precision: Precision, t: TimingOptions, env: BenchEnv): Promise<Outcome> {
  const refusal = precisionRefusal(w, precision);
  if (refusal) return { skipped: refusal };
  const lib = nativeConvolutionsActive()?.lib;
  const onednn = lib instanceof OneDnnConvolutions ? lib : null;
  const before = onednn?.precision;
  onednn?.setPrecision(precision);
  try {
    const r = await measureWorkload(w, t, env);
    return onednn && !("skipped" in r) ? { ...r, onednnImpls: onednn.implReport().summary } : r;
  } finally {
    if (onednn && before) onednn.setPrecision(before);
  }
}

const TORCH_SCRIPT = fileURLToPath(new URL("./torch_reference.py", import.meta.url));

/**
 * The workload as torch_reference.py reads it (with flops.ts's forward-pass conv GFLOPs), or null
 * when it has no PyTorch version. `scoreBackbone`: the backbone a score workload's run resolves
 * to (scoreBackboneName; default the config's).
 */
export function torchSpec(w: Workload, scoreBackbone?: string): Record<string, unknown> | null {
  switch (w.kind) {
    case "student":
      return { ...w, analytic_gflops: (TRAIN_STEP_FACTOR * studentForwardFlops(w, w.batch, w.side)) / 1e9 };
    case "teacher":
      return { ...w, analytic_gflops: (TRAIN_STEP_FACTOR * flowForwardFlops(w, w.batch, w.side)) / 1e9 };
    case "effnet":
      return { ...w, analytic_gflops: effnetB5ForwardFlops(w.inputSize, w.upToBlock) / 1e9 };
    case "score":
      return scoreTorchSpec(w, scoreBackbone);
    default:
      return null;
  }
}

/** One torch_reference.py line: a timing, or the workload's failure. */
interface TorchLine {
  name: string;
  precision: Precision;
  ms_per_step?: number;
  steps_ms?: number[];
  torch_gflops?: number;
  analytic_gflops?: number | null;
  /** what the PyTorch step covers when it is not like-for-like (score: the network part only) */
  note?: string;
  error?: string;
}

const torchChecked = new Map<string, Promise<string | null>>();
/** torchAvailable, asked once per interpreter and process */
function torchAvailableOnce(python: string): Promise<string | null> {
  let p = torchChecked.get(python);
  if (!p) torchChecked.set(python, p = torchAvailable(python));
  return p;
}

/** Whether `python` imports torch; the reason when not. */
async function torchAvailable(python: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(python, { args: ["-c", "import torch"], stdout: "null", stderr: "piped" }).output();
    if (out.success) return null;
    const last = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    return `${python} cannot import torch (${last || `exit code ${out.code}`})`;
  } catch (e) {
    return `${python} cannot be run (${(e as Error).message.split("\n")[0]})`;
  }
}

/**
 * The same-run PyTorch reference of `workloads` (those with a PyTorch version) at `precisions`:
 * torch_reference.py at the bench's threads and timing. Lines keyed "name@precision".
 */
async function torchReference(
  python: string | null,
  workloads: Workload[],
  precisions: Precision[],
  threads: number,
  t: TimingOptions,
  log: (s: string) => void,
  weightsDir?: string,
): Promise<{ info: TorchInfo; lines: Map<string, TorchLine> }> {
  const lines = new Map<string, TorchLine>();
  if (python == null) return { info: { python: "", available: false, note: NO_TORCH_ASKED }, lines };
  const specs: Record<string, unknown>[] = [];
  for (const w of workloads) {
    try {
      const spec = torchSpec(w, w.kind === "score" ? await scoreBackboneName(w, weightsDir) : undefined);
      if (spec) specs.push(spec);
    } catch (e) {
      // a config our own run refused already has its skip; the other workloads still get PyTorch
      log(`  no PyTorch spec for ${w.name}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const missing = await torchAvailableOnce(python);
  if (missing) return { info: { python, available: false, note: `no same-run PyTorch reference: ${missing}` }, lines };
  if (!specs.length) return { info: { python, available: true, note: NO_TORCH_VERSION }, lines };
  log(`  PyTorch reference (${python} tools/bench/torch_reference.py, ${precisions.join(",")}) ...`);
  const args = [TORCH_SCRIPT, "--workloads", JSON.stringify(specs), "--precision", precisions.join(","), "--threads", String(threads),
    "--warmup", String(Math.max(1, t.warmup)), "--min-steps", String(t.minSteps), "--max-steps", String(t.maxSteps), "--budget", String(t.budgetSeconds)];
  const out = await new Deno.Command(python, { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped" }).output();
  for (const l of new TextDecoder().decode(out.stderr).split("\n")) if (l.trim()) log(`    torch: ${l}`);
  const info: TorchInfo = { python, available: true };
  const errors: string[] = [];
  for (const text of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!text.startsWith("{")) continue;
    const j = JSON.parse(text);
    if ("torch_version" in j) {
      Object.assign(info, { version: j.torch_version, threads: j.threads, cpu_capability: j.cpu_capability, memory_format: j.memory_format });
      if (j.bf16_isa) info.bf16_isa = j.bf16_isa;
    } else if ("error" in j && !("name" in j)) {
      return { info: { python, available: false, note: `no same-run PyTorch reference: ${j.error}` }, lines };
    } else {
      lines.set(`${j.name}@${j.precision}`, j);
      if (j.error) errors.push(`${j.name} ${j.precision}: ${j.error}`);
      else {
        const ours = j.analytic_gflops == null ? "not counted" : round(j.analytic_gflops, 6);
        log(`  torch ${j.name} ${j.precision}: ${j.ms_per_step} ms (conv GFLOP: torch ${j.torch_gflops}, ours ${ours})${j.note ? `; ${j.note}` : ""}`);
      }
    }
  }
  if (!out.success && !errors.length) errors.push(`torch_reference.py exited with code ${out.code}`);
  if (errors.length) info.note = `PyTorch failed: ${errors.join("; ")}`;
  return { info, lines };
}

const NO_TORCH_VERSION = "no workload with a PyTorch version selected";
const NO_TORCH_ASKED = "no PyTorch reference asked (--no-torch)";

/**
 * One TorchInfo for the record from the per-workload runs: the interpreter and torch's details
 * from a run that had them, the notes (failures, torch missing) once each.
 */
function combinedTorchInfo(python: string | null, runs: TorchInfo[]): TorchInfo {
  const timed = runs.find((r) => r.available && r.version);
  const notes = [...new Set(runs.map((r) => r.note).filter((n): n is string => !!n && n !== NO_TORCH_VERSION))];
  if (timed) {
    const { note: _first, ...info } = timed;
    return notes.length ? { ...info, note: notes.join("; ") } : info;
  }
  if (!runs.length) return { python: python ?? "", available: false, note: python == null ? NO_TORCH_ASKED : NO_TORCH_VERSION };
  if (runs.every((r) => r.available)) return { python: python ?? "", available: true, note: NO_TORCH_VERSION };
  // a run without torch always says why
  return { python: python ?? "", available: false, note: notes.join("; ") };
}

/**
 * Fills a row's same-run PyTorch columns (null where there is no timing); reference_ms / ratio =
 * PyTorch fp32. Score rows compare their `network_ms` (the part PyTorch's step does too).
 */
function withTorchColumns(row: WorkloadRow, lines: Map<string, TorchLine>): WorkloadRow {
  const ms = (p: Precision) => lines.get(`${row.name}@${p}`)?.ms_per_step ?? null;
  const ours = row.network_ms ?? row.ms_per_step;
  const ratio = (ref: number | null) => (ref ? round(ours / ref, 3) : null);
  const fp32 = ms("fp32"), bf16 = ms("bf16");
  const note = PRECISIONS.map((p) => lines.get(`${row.name}@${p}`)?.note).find((n) => n);
  const steps = Object.fromEntries(PRECISIONS.flatMap((p) => {
    const s = lines.get(`${row.name}@${p}`)?.steps_ms;
    return s ? [[p, s]] : [];
  }));
  return {
    ...row,
    reference_ms: fp32,
    ratio: ratio(fp32),
    torch_fp32_ms: fp32,
    torch_bf16_ms: bf16,
    ratio_fp32: ratio(fp32),
    ratio_bf16: ratio(bf16),
    ...(Object.keys(steps).length ? { torch_steps_ms: steps } : {}),
    ...(note ? { torch_note: note } : {}),
  };
}

/** The record to merge into: `<dir>/latest.json` if any; it must be from this backend and thread count (and CPU, when both name one). */
async function previousRecord(dir: string, backend: string, threads: number, cpu: BenchCpu | undefined): Promise<BenchRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "latest.json"));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const prev = JSON.parse(text) as BenchRecord;
  if (prev.backend !== backend || prev.threads !== threads) {
    throw new BenchError(`--merge: ${join(dir, "latest.json")} is from ${prev.backend} x${prev.threads}, this run is ${backend} x${threads}; not merging`);
  }
  // rows measured on another CPU would be recorded under this one's name
  if (prev.cpu && cpu && prev.cpu.model !== cpu.model) {
    throw new BenchError(`--merge: ${join(dir, "latest.json")} was measured on ${prev.cpu.model}, this run is on ${cpu.model}; not merging`);
  }
  return prev;
}

/** Runs the selected workloads (then the demo if asked), writes the record, returns it. */
export async function runBench(o: BenchOptions = {}): Promise<{ record: BenchRecord; paths: string[] }> {
  const log = o.log ?? console.log;
  const all = o.workloads ?? defaultWorkloads();
  const only = o.only?.filter((s) => s.length > 0);
  if (only?.length) {
    const unknown = only.filter((n) => !all.some((w) => w.name === n) && n !== "demo");
    if (unknown.length) throw new BenchError(`--only: unknown workload(s) ${unknown.join(", ")}; known: ${all.map((w) => w.name).join(", ")}`);
  }
  const selected = only?.length ? all.filter((w) => only.includes(w.name)) : all;
  const timing: TimingOptions = {
    ...DEFAULT_TIMING,
    onStep: (ms, warm) => log(`    ${warm ? "warm-up" : "step"} ${ms.toFixed(0)} ms (load ${loadAverage()})`),
    ...o.timing,
  };

  const env = o.env ?? DEFAULT_BENCH_ENV;
  const info = await initBackend(env.runtime.backend);
  const outDir = o.outDir ?? join(PROJECT_ROOT, "results", "bench");
  // Read (and check) before the run: a refused merge should not cost the workloads' time.
  // e.g. "wasm+onednn+fused": native convolutions and fused kernels are different speed classes
  const backendLabel = [info.name, ...(info.convolutions ? [info.convolutions.split(" ")[0].toLowerCase()] : []), ...(info.fusedKernels ? ["fused"] : [])].join("+");
  const { cpu } = benchCpu();
  const previous = o.merge ? await previousRecord(outDir, backendLabel, info.threads, cpu) : null;
  const record: BenchRecord = {
    backend: backendLabel,
    ...(info.convolutions ? { convolutions: info.convolutions } : {}),
    ...(info.fusedKernels ? { fused_kernels: info.fusedKernels } : {}),
    threads: info.threads,
    ...(cpu ? { cpu } : {}),
    workloads: [],
    demo_seconds: null,
    skipped: [],
    ...(info.note ? { backend_note: info.note } : {}),
    loadavg: { start: loadAverage(), end: "" },
    ...(o.isolate ? { host_sgemm_gflops: { start: hostSgemmGflops(), end: null } } : {}),
    date: new Date().toISOString(),
  };
  log(`bench on ${backendLabel} x${info.threads}${info.convolutions ? ` (convolutions: ${info.convolutions})` : ""}, load average ${record.loadavg.start}`);
  const precisions = o.precisions?.length ? o.precisions : ["fp32" as Precision];
  record.precisions = precisions;
  const python = o.python === undefined ? DEFAULT_PYTHON : o.python;
  const torchRuns: TorchInfo[] = [];
  const torchLines = new Map<string, TorchLine>();
  for (const w of selected) {
    for (const precision of precisions) {
      const label = precisions.length > 1 || precision !== "fp32" ? `${w.name} ${precision}` : w.name;
      log(`  ${label} ...`);
      try {
        const r = o.isolate ? await measureInSubprocess(w.name, precision, timing, log) : await measureAtPrecision(w, precision, timing, env);
        if ("skipped" in r) {
          record.skipped.push({ name: w.name, reason: r.skipped, precision });
          log(`  ${label}: skipped (${r.skipped})`);
          continue;
        }
        const row = makeRow(w.name, r.msPerStep, r.flops, null, r.stepsMs, r.note, r.perImage, precision);
        if (w.referenceMs != null) row.reference_ms_issue5 = w.referenceMs;
        if (r.onednnImpls) row.onednn_impls = r.onednnImpls;
        if (r.networkMsPerStep != null) {
          row.network_ms = round(r.networkMsPerStep, 1);
          row.network_steps_ms = r.networkStepsMs!.map((x) => round(x, 1));
        }
        // resident memory of the measuring process after the workload (native libraries included)
        row.rss_mb = r.rssMb ?? Math.round(Deno.memoryUsage().rss / 2 ** 20);
        record.workloads.push(row);
        const rate = (row.images_per_s == null ? "" : `, ${row.images_per_s} images/s`) +
          (row.network_ms == null ? "" : ` (network part alone ${row.network_ms} ms)`);
        log(`  ${label}: ${row.ms_per_step} ms${rate}, ${row.gflops} GFLOP/s (steps ${row.steps_ms.join(", ")}; load ${loadAverage()})`);
      } catch (err) {
        // One failing workload (e.g. out of memory) must not lose the others' numbers.
        const reason = `failed: ${String((err as Error)?.message ?? err).split("\n")[0]}`;
        record.skipped.push({ name: w.name, reason, precision });
        log(`  ${label}: ${reason}`);
      }
    }
    // the reference right after ours, for this workload (the host as near the same as one can)
    const torch = await torchReference(python, [w], precisions, info.threads, timing, log, env.runtime.weightsDir);
    torchRuns.push(torch.info);
    for (const [k, line] of torch.lines) torchLines.set(k, line);
  }
  record.torch = combinedTorchInfo(python, torchRuns);
  record.reference = record.torch.available && record.torch.version
    ? `PyTorch ${record.torch.version} fp32, same run, after each workload (tools/bench/torch_reference.py)`
    : `none: ${record.torch.note}`;
  record.workloads = record.workloads.map((row) => withTorchColumns(row, torchLines));
  if (o.demo) {
    const d = await timeDemo(log);
    record.demo_seconds = d.seconds == null ? null : Math.round(d.seconds * 10) / 10;
    if (d.reason) record.skipped.push({ name: "demo", reason: d.reason });
  }
  record.loadavg.end = loadAverage();
  if (record.host_sgemm_gflops) record.host_sgemm_gflops.end = hostSgemmGflops();
  const written = previous ? mergeRecords(previous, record) : record;
  const paths = await writeRecord(outDir, written, timestamp());
  return { record: written, paths };
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v == null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BenchError(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
}

/** `--precision fp32|bf16|fp32,bf16` (default fp32): the precisions, in order, without repeats. */
export function parsePrecisions(v: string | undefined): Precision[] {
  if (v == null) return ["fp32"];
  const list = v.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
  const bad = list.filter((x) => !(PRECISIONS as readonly string[]).includes(x));
  if (bad.length || !list.length) throw new BenchError(`--precision: expected fp32, bf16 or fp32,bf16, got '${v}'`);
  return [...new Set(list)] as Precision[];
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      demo: { type: "boolean", default: false },
      "no-demo": { type: "boolean", default: false },
      out: { type: "string" },
      budget: { type: "string" },
      "min-steps": { type: "string" },
      "max-steps": { type: "string" },
      warmup: { type: "string" },
      merge: { type: "boolean", default: false },
      "measure-one": { type: "string" },
      precision: { type: "string" },
      "no-torch": { type: "boolean", default: false },
    },
    strict: true,
  });
  const only = values.only?.split(",").map((s) => s.trim());
  const timing: Partial<TimingOptions> = {};
  const set = <K extends Exclude<keyof TimingOptions, "onStep" | "networkPart">>(k: K, v: number | undefined) => v != null && (timing[k] = v);
  set("budgetSeconds", values.budget == null ? undefined : Number(values.budget));
  set("minSteps", positiveInt(values["min-steps"], "min-steps"));
  set("maxSteps", positiveInt(values["max-steps"], "max-steps"));
  set("warmup", positiveInt(values.warmup, "warmup"));
  // read once here and passed down; a --measure-one child reads the same (inherited) environment
  const env: BenchEnv = { sharedDir: Deno.env.get("AST_SHARED_DIR") ?? DEFAULT_SHARED_DIR, runtime: runtimeFromEnv() };
  const precisions = parsePrecisions(values.precision);
  if (values["measure-one"]) return await measureOne(values["measure-one"], precisions[0], timing, env);
  const { record, paths } = await runBench({
    isolate: true,
    only,
    // the demo's wall time is part of the full bench; with --only, only when named
    demo: !values["no-demo"] && (values.demo || (only?.length ? only.includes("demo") : true)),
    outDir: values.out,
    merge: values.merge,
    timing,
    env,
    precisions,
    python: values["no-torch"] ? null : (Deno.env.get("AST_BENCH_PYTHON") || DEFAULT_PYTHON),
  });
  console.log("\n" + formatTable(record));
  console.log(`\nwrote ${paths.join(" and ")}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    if (err instanceof BenchError || (err as Error)?.name === "TypeError") {
      console.error(`bench: ${(err as Error).message}`);
      Deno.exit(2);
    }
    throw err;
  }
}
