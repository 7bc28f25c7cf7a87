/**
 * The bench record (docs/CLI_CONTRACT.md, `deno task bench`): `results/bench/latest.json` plus
 * a timestamped copy, and a printed table.
 */
import { join } from "node:path";
import { tempSibling } from "../../lib/util/fs.ts";
import type { Precision } from "../../lib/backend/native/onednn/conv.ts";

export interface WorkloadRow {
  name: string;
  /** the precision our convolutions ran in ("fp32" / "bf16"; records before issue 17 lack it: fp32) */
  precision?: Precision;
  /** per training step, or per image for extraction */
  ms_per_step: number;
  /** achieved GFLOP/s (analytic FLOPs / median time) */
  gflops: number;
  /**
   * PyTorch fp32 measured in the same run on the same CPU (tools/bench/torch_reference.py; the
   * record's `reference` says which), null when PyTorch is absent or has no such workload
   */
  reference_ms: number | null;
  /** ms_per_step / reference_ms; null without a reference */
  ratio: number | null;
  /** same-run PyTorch, fp32 and bf16 autocast (null: absent, not asked, or failed: see the record's `torch`) */
  torch_fp32_ms?: number | null;
  torch_bf16_ms?: number | null;
  /** PyTorch's timed steps, ms, per precision (their medians are torch_fp32_ms / torch_bf16_ms) */
  torch_steps_ms?: Partial<Record<Precision, number[]>>;
  /** ms_per_step / torch_fp32_ms and ms_per_step / torch_bf16_ms */
  ratio_fp32?: number | null;
  ratio_bf16?: number | null;
  /** what the PyTorch step covers when it differs from ours (score rows: network part only, no decode/depth preprocessing) */
  torch_note?: string;
  /**
   * score rows: our median for the part the PyTorch step also does (images decoded and point maps
   * preprocessed beforehand), and its steps; the PyTorch ratios of these rows use it
   */
  network_ms?: number;
  network_steps_ms?: number[];
  /**
   * NOT same-run: the constant of the speed issue (issue 5: PyTorch 1.13 CPU, 2 threads, measured
   * once on an earlier host), kept for continuity only; never compare against it
   */
  reference_ms_issue5?: number;
  /** the oneDNN implementations this workload's convolutions used (implReport().summary) */
  onednn_impls?: string;
  /** timed steps, ms (the median is ms_per_step) */
  steps_ms: number[];
  note?: string;
  /** scoring workloads (one step = one image): 1000 / ms_per_step */
  images_per_s?: number;
  /** resident memory of the bench process after this workload, MB */
  rss_mb?: number;
}

/** Rows a `--merge` run kept from an earlier run, and that run's date and load. */
export interface MergedFrom {
  date: string;
  loadavg: { start: string; end: string };
  workloads: string[];
}

export interface BenchCpu {
  model: string;
  /** e.g. ["avx2", "fma", "avx512f", "avx512_bf16"] (lib/backend/native/cpu_flags.ts SPEED_ISA_FLAGS) */
  isa: string[];
}

/** The same-run PyTorch reference (tools/bench/torch_reference.py), or why there is none. */
export interface TorchInfo {
  /** the interpreter run (AST_BENCH_PYTHON, default /usr/bin/python3) */
  python: string;
  available: boolean;
  /** torch.__version__ */
  version?: string;
  threads?: number;
  /** ATen's vector ISA (torch.__config__.show(): "CPU capability usage") */
  cpu_capability?: string | null;
  /** oneDNN's ISA and its bf16 convolution implementation in this torch (DNNL_VERBOSE), when bf16 was asked and torch tells */
  bf16_isa?: string | null;
  memory_format?: string;
  /** why the columns are null (torch absent), or the workloads it failed on */
  note?: string;
}

export interface BenchRecord {
  /** the host's speed before / after the workloads: OpenBLAS SGEMM GFLOP/s (isolated runs) */
  host_sgemm_gflops?: { start: number | null; end: number | null };
  backend: string;
  threads: number;
  /** the CPU the timings ran on: /proc/cpuinfo's model name and its speed-relevant ISA flags (records before this field lack it) */
  cpu?: BenchCpu;
  workloads: WorkloadRow[];
  /** wall time of `deno task demo` (full bench, or `--only ...,demo`), else null */
  demo_seconds: number | null;
  /** workloads asked for but not run, with the reason (and the precision, when one precision of it was skipped) */
  skipped: { name: string; reason: string; precision?: Precision }[];
  /** the precisions asked (--precision); records before issue 17 lack it: fp32 */
  precisions?: Precision[];
  /** what reference_ms / ratio are: "PyTorch <version> fp32, same run", or why there is none */
  reference?: string;
  torch?: TorchInfo;
  backend_note?: string;
  /** the library computing convolutions when not the backend's own */
  convolutions?: string;
  /** "native" when AST's fused kernels ran compiled code (ops: lib/ops/; kernels: lib/backend/js/) */
  fused_kernels?: string;
  /** /proc/loadavg at start and end: other processes share these 2 cores */
  loadavg: { start: string; end: string };
  date: string;
  /** present after `--merge`: where the rows not measured by this run come from */
  merged_from?: MergedFrom[];
}

export function loadAverage(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" "); // --allow-sys; /proc/loadavg would need -A
  } catch {
    return "n/a";
  }
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function makeRow(
  name: string,
  msPerStep: number,
  flops: number,
  referenceMs: number | null,
  stepsMs: number[],
  note?: string,
  perImage = false,
  precision?: Precision,
): WorkloadRow {
  return {
    name,
    ...(precision ? { precision } : {}),
    ms_per_step: round(msPerStep, 1),
    gflops: round(flops / 1e9 / (msPerStep / 1000), 2),
    reference_ms: referenceMs,
    ratio: referenceMs ? round(msPerStep / referenceMs, 3) : null,
    steps_ms: stepsMs.map((x) => round(x, 1)),
    ...(note ? { note } : {}),
    ...(perImage ? { images_per_s: round(1000 / msPerStep, 3) } : {}),
  };
}

/**
 * `current` merged into `previous` (the caller checks they share backend and threads): a name
 * that `current` measured or skipped replaces every earlier row or skip of that name; the other
 * earlier rows stay, in their order, with the new ones after them. Top-level date and load are
 * `current`'s; `merged_from` says which rows are older and from when.
 */
export function mergeRecords(previous: BenchRecord, current: BenchRecord): BenchRecord {
  // a row is a workload at a precision; a skip without precision covers all of the workload's
  const key = (name: string, precision?: Precision) => `${name}@${precision ?? "fp32"}`;
  const freshRows = new Set([...current.workloads.map((w) => key(w.name, w.precision)), ...current.skipped.map((s) => key(s.name, s.precision))]);
  const freshAll = new Set(current.skipped.filter((s) => !s.precision).map((s) => s.name));
  const isFresh = (name: string, precision?: Precision) => freshAll.has(name) || freshRows.has(key(name, precision));
  const fresh = new Set([...current.workloads.map((w) => w.name), ...current.skipped.map((s) => s.name)]);
  const kept = previous.workloads.filter((w) => !isFresh(w.name, w.precision));
  const keptNames = [...new Set(kept.map((w) => w.name))];
  // An earlier merge's provenance carries over for the rows still kept.
  const older = (previous.merged_from ?? []).map((m) => ({ ...m, workloads: m.workloads.filter((n) => keptNames.includes(n)) }));
  const fromOlder = new Set(older.flatMap((m) => m.workloads));
  const own = keptNames.filter((n) => !fromOlder.has(n));
  const mergedFrom = [...older, { date: previous.date, loadavg: previous.loadavg, workloads: own }].filter((m) => m.workloads.length > 0);
  return {
    ...current,
    workloads: [...kept, ...current.workloads],
    demo_seconds: current.demo_seconds ?? (fresh.has("demo") ? null : previous.demo_seconds),
    skipped: [...previous.skipped.filter((s) => !(s.precision ? isFresh(s.name, s.precision) : fresh.has(s.name))), ...current.skipped],
    ...(mergedFrom.length ? { merged_from: mergedFrom } : {}),
  };
}

/** Writes `<dir>/latest.json` and `<dir>/<stamp>.json`; returns both paths. */
export async function writeRecord(dir: string, record: BenchRecord, stamp: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const text = JSON.stringify(record, null, 2) + "\n";
  const paths = [join(dir, `${stamp}.json`), join(dir, "latest.json")];
  for (const p of paths) {
    const tmp = tempSibling(p);
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, p); // atomic: a reader never sees half a file
  }
  return paths;
}

/** "MODEL (isa1 isa2 ...)", or the model alone without known flags. */
export function cpuLine(cpu: BenchCpu): string {
  return cpu.isa.length ? `${cpu.model} (${cpu.isa.join(" ")})` : cpu.model;
}

const cell = (x: number | null | undefined, digits: number, width: number) => (x == null ? "-" : x.toFixed(digits)).padStart(width);

export function formatTable(r: BenchRecord): string {
  const torch = r.torch;
  const lines = [
    `backend ${r.backend} x${r.threads}${r.backend_note ? ` (${r.backend_note})` : ""}; load average ${r.loadavg.start} -> ${r.loadavg.end}` +
      (r.host_sgemm_gflops ? `; host SGEMM ${r.host_sgemm_gflops.start} -> ${r.host_sgemm_gflops.end} GFLOP/s` : ""),
    ...(r.cpu ? [`cpu ${cpuLine(r.cpu)}`] : []),
    ...(torch
      ? [torch.available
        ? `reference: PyTorch ${torch.version} x${torch.threads} (${torch.memory_format}; ATen ${torch.cpu_capability ?? "?"}${torch.bf16_isa ? `; oneDNN ${torch.bf16_isa}` : ""}), same run` +
          (torch.note ? `; ${torch.note}` : "")
        : `reference: none (${torch.note})`]
      : []),
    `${"workload".padEnd(16)} ${"prec".padEnd(4)} ${"ms".padStart(10)} ${"GFLOP/s".padStart(8)} ${"torch fp32".padStart(10)} ${"torch bf16".padStart(10)} ${"x fp32".padStart(6)} ${"x bf16".padStart(6)}`,
  ];
  for (const w of r.workloads) {
    lines.push(
      `${w.name.padEnd(16)} ${(w.precision ?? "fp32").padEnd(4)} ${w.ms_per_step.toFixed(1).padStart(10)} ${w.gflops.toFixed(1).padStart(8)} ` +
        `${cell(w.torch_fp32_ms ?? w.reference_ms, 1, 10)} ${cell(w.torch_bf16_ms, 1, 10)} ${cell(w.ratio_fp32 ?? w.ratio, 2, 6)} ${cell(w.ratio_bf16, 2, 6)}` +
        (w.images_per_s == null ? "" : `  ${w.images_per_s} images/s`) +
        (w.network_ms == null ? "" : `; network part ${w.network_ms.toFixed(1)} ms (the x columns)`),
    );
  }
  // once per workload: the PyTorch step is not like-for-like beyond what it says
  const notes = new Map(r.workloads.filter((w) => w.torch_note).map((w) => [w.name, w.torch_note!]));
  for (const [name, note] of notes) lines.push(`${name.padEnd(16)} torch: ${note}`);
  for (const s of r.skipped) lines.push(`${s.name.padEnd(16)} ${(s.precision ?? "").padEnd(4)} skipped: ${s.reason}`);
  if (r.demo_seconds != null) lines.push(`${"demo_seconds".padEnd(16)} ${"".padEnd(4)} ${r.demo_seconds.toFixed(1).padStart(10)}`);
  return lines.join("\n");
}
