/**
 * Issue 17, quality: does bf16 change what AST finds? The same cells trained twice, fp32 and
 * bf16 (`precision`), as the two variants of one grid, so the ablation machinery pairs them
 * (same data, class, mode, seed, test images): per (data, mode) the image AUROC difference
 * bf16 - fp32 with its two-way bootstrap 95% interval (lib/metrics/paired_difference.ts), and
 * the per-seed pixel AUROC differences. bf16 may become the default on supporting CPUs only if
 * every difference is within 0.005 (the issue's rule); the verdict line says whether it is.
 *
 *   deno run -q --allow-read --allow-write=results,data,$HOME/.cache/ast-lab,/tmp --allow-env \
 *     --allow-ffi --allow-sys --allow-run=cc,gcc,git tools/precision/compare.ts [--scale demo] [--seeds 0,1,2]
 *   (deno task precision)
 *
 * demo scale: the shared puck (depth and RGB+3D) and the shared MVTec AD grid subset (RGB), the
 * `demo` preset; cpu/paper: MVTec 3D-AD and MVTec AD at those presets. Writes
 * results/precision/<scale>-<time>.json and prints the table.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { type DatasetRef, type ExperimentDefinition, type GridCell, runGrid, type Scale, SCALES } from "../../lib/experiment/grid.ts";
import { ablationTable, type AblationRow } from "../../lib/report/ablation.ts";
import { gridProgress } from "../../lib/report/grid_progress.ts";
import { writeJsonAtomic } from "../../lib/results/run_files.ts";
import { projectPath } from "../../lib/util/project.ts";
import type { Mode } from "../../lib/types.ts";
import { mvtec3d, mvtecAd, SHARED_GRID, SHARED_PUCK } from "../../experiments/datasets.ts";
import { PAPER_SEEDS } from "../../experiments/scales.ts";

/** The issue's bar: bf16 is the default on supporting CPUs only if no difference exceeds this. */
export const MAX_DEFAULT_DIFFERENCE = 0.005;

export function precisionExperiment(): ExperimentDefinition {
  const variants = [{ name: "fp32" }, { name: "bf16", config: { precision: "bf16" } }] as ExperimentDefinition["scales"]["demo"]["variants"];
  const spec = (preset: "demo" | "cpu" | "paper", datasets: DatasetRef[], seeds: number[]) => ({ preset, datasets, modes: ["depth", "combi", "rgb"] as Mode[], variants, seeds });
  return {
    name: "precision_bf16",
    title: "bf16 vs fp32 convolutions",
    paper: "issue 17",
    description: "The same cells in fp32 and bf16; bf16 compared with fp32.",
    reference: "fp32",
    scales: {
      demo: spec("demo", [{ ...SHARED_PUCK, modes: ["depth", "combi"] }, SHARED_GRID], PAPER_SEEDS),
      cpu: spec("cpu", [...mvtec3d(["bagel"]).map((d) => ({ ...d, modes: ["depth", "combi"] as Mode[] })), ...mvtecAd(["grid"])], PAPER_SEEDS),
      paper: spec("paper", [...mvtec3d(["bagel"]).map((d) => ({ ...d, modes: ["depth", "combi"] as Mode[] })), ...mvtecAd(["grid"])], PAPER_SEEDS),
    },
  } as ExperimentDefinition;
}

export interface PrecisionRow {
  data: string;
  class: string;
  mode: string;
  seeds: number[];
  image_auroc_fp32: number;
  image_auroc_bf16: number;
  /** mean over seeds of bf16 - fp32 (image AUROC) and its 95% interval */
  image_diff: number;
  image_diff_ci95: [number, number];
  /** per seed, bf16 - fp32 pixel AUROC, and their mean */
  pixel_diff_per_seed: number[];
  pixel_diff: number | null;
  /** what actually ran in the bf16 cells (metrics.json) */
  bf16_precision: string[];
  bf16_isa: string[];
}

export function precisionRows(rows: AblationRow[], cells: GridCell[]): PrecisionRow[] {
  const out: PrecisionRow[] = [];
  for (const r of rows.filter((r) => r.variant === "bf16" && r.method === "ast")) {
    const ref = rows.find((x) => x.reference && x.method === "ast" && x.data === r.data && x.class === r.class && x.mode === r.mode)!;
    const pick = (variant: string) => cells.filter((c) => c.variant === variant && c.data === r.data && c.className === r.class && c.mode === r.mode && c.metrics);
    const fp32 = new Map(pick("fp32").map((c) => [c.seed, c]));
    const bf16 = pick("bf16");
    const pixel = bf16.flatMap((c) => {
      const a = c.metrics!.pixel_auroc, b = fp32.get(c.seed)?.metrics?.pixel_auroc;
      return a != null && b != null ? [a - b] : [];
    });
    const m = (c: GridCell) => c.metrics as unknown as Record<string, unknown>;
    out.push({
      data: r.data,
      class: r.class,
      mode: r.mode,
      seeds: r.seeds,
      image_auroc_fp32: ref.image_auroc,
      image_auroc_bf16: r.image_auroc,
      image_diff: r.diff_vs_ast!,
      image_diff_ci95: r.diff_ci95!,
      pixel_diff_per_seed: pixel,
      pixel_diff: pixel.length ? pixel.reduce((a, b) => a + b, 0) / pixel.length : null,
      bf16_precision: [...new Set(bf16.map((c) => String(m(c).precision ?? "unrecorded")))],
      bf16_isa: [...new Set(bf16.map((c) => String(m(c).precision_isa ?? "unrecorded")))],
    });
  }
  return out;
}

/** Whether every difference (image mean, its interval ends, and each seed's pixel difference) is within the bar. */
export function withinBar(rows: PrecisionRow[], bar = MAX_DEFAULT_DIFFERENCE): boolean {
  return rows.length > 0 && rows.every((r) =>
    Math.abs(r.image_diff) <= bar && r.pixel_diff_per_seed.every((d) => Math.abs(d) <= bar) && r.bf16_precision.every((p) => p === "bf16")
  );
}

const f4 = (x: number) => (x >= 0 ? "+" : "") + x.toFixed(4);

export function precisionTable(rows: PrecisionRow[]): string {
  const lines = ["data / class                   mode   seeds  image AUROC fp32  bf16    Δ image [95% CI]             Δ pixel (mean; per seed)", "-".repeat(130)];
  for (const r of rows) {
    const where = `${r.data.split("/").slice(-1)[0]} / ${r.class}`.padEnd(30);
    lines.push(`${where} ${r.mode.padEnd(6)} ${String(r.seeds.length).padStart(5)}  ${r.image_auroc_fp32.toFixed(4)}            ${r.image_auroc_bf16.toFixed(4)}  ${f4(r.image_diff)} [${f4(r.image_diff_ci95[0])}, ${f4(r.image_diff_ci95[1])}]  ${r.pixel_diff === null ? "-" : `${f4(r.pixel_diff)}; ${r.pixel_diff_per_seed.map(f4).join(" ")}`}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { scale: { type: "string" }, seeds: { type: "string" }, results: { type: "string" } } });
  const scale = (values.scale ?? "demo") as Scale;
  if (!SCALES.includes(scale)) throw new Error(`--scale must be one of ${SCALES.join(", ")}`);
  const runtime = runtimeFromEnv();
  const def = precisionExperiment();
  const seeds = values.seeds?.split(",").map(Number);
  const cells = await runGrid(def, scale, { runtime, seeds, results: values.results, continueOnError: true, ...gridProgress() });
  const rows = precisionRows(ablationTable(def, cells), cells);
  console.log(precisionTable(rows));
  const ok = withinBar(rows);
  console.log(`${ok ? "every difference is within" : "some difference exceeds"} ${MAX_DEFAULT_DIFFERENCE} (image mean per (data, mode); pixel per seed): bf16 ${ok ? "may become" : "stays off as"} the default on supporting CPUs`);
  const dir = projectPath("results", "precision");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${scale}-${new Date().toISOString().replaceAll(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}.json`);
  await writeJsonAtomic(path, { scale, written: new Date().toISOString(), bar: MAX_DEFAULT_DIFFERENCE, within_bar: ok, rows, failed: cells.filter((c) => c.status === "failed").map((c) => ({ class: c.className, mode: c.mode, variant: c.variant, seed: c.seed, message: c.message })) });
  console.log(`wrote ${path}`);
}
