/**
 * An ablation's table from its grid cells: per dataset, class, mode and variant the mean image
 * AUROC over seeds with the seed standard deviation, and against AST (the experiment's
 * reference variant, same images, same seed, and for student variants the same teacher) the
 * paired difference with a two-way bootstrap interval (test images x seeds,
 * lib/metrics/paired_difference.ts) and a verdict computed from it:
 *   - `same direction as the paper` / `opposite`: the interval excludes 0 and its sign agrees /
 *     disagrees with the paper's difference for the same mode (its MVTec mean);
 *   - `not distinguishable`: the interval contains 0, or fewer than MIN_SEEDS_FOR_CLAIM seeds.
 * The paper's number and a delta appear only where dataset and class are the paper's own
 * (MVTec AD, MVTec 3D-AD, the paper's class or its mean): a synthetic testbed or your own data
 * shows ours alone, with the paper's direction used only for the verdict.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import type { ExperimentDefinition, GridCell } from "../experiment/grid.ts";
import { auroc } from "../metrics/roc.ts";
import { pairedAurocDifference, seedStd } from "../metrics/paired_difference.ts";
import { loadPaperNumbers, type PaperNumber, paperValue } from "../results/paper_numbers.ts";
import { RUN_FILES } from "../results/run_files.ts";
import type { Mode } from "../types.ts";
import { paperVariantName } from "./paper_tables.ts";
import type { VegaLiteSpec } from "../viz/render.ts";
import { round6, titleOf, VEGA_LITE_SCHEMA } from "../viz/spec_defaults.ts";

/** Fewer seeds than this never make a claim, whatever the interval says. */
export const MIN_SEEDS_FOR_CLAIM = 3;

export type Verdict = "same direction as the paper" | "opposite" | "not distinguishable" | "higher than AST" | "lower than AST";

export type Method = "ast" | "teacher-nll";

export interface AblationRow {
  experiment: string;
  /** dataset root as run (a folder) and class */
  data: string;
  class: string;
  mode: Mode;
  /** the grid variant ("teacher-nll" for the reference runs' own teacher NLL row) */
  variant: string;
  /** what scores the images: the student-teacher distance (ast) or the teacher's NLL */
  method: Method;
  /** this row is the one the others are compared with */
  reference: boolean;
  n_seeds: number;
  seeds: number[];
  /** mean over seeds (image AUROC, max scoring) and the seeds' sample standard deviation */
  image_auroc: number;
  image_auroc_sd: number;
  pixel_auroc: number | null;
  /** paired difference to the reference row (mean over seeds), its 95% interval, the verdict; null for the reference */
  diff_vs_ast: number | null;
  diff_ci95: [number, number] | null;
  verdict: Verdict | null;
  /** the paper's difference for this comparison (its MVTec mean, same mode), in AUROC units */
  paper_diff: number | null;
  /** the paper's own number and ours minus it, only where dataset and class are the paper's */
  paper: number | null;
  delta_vs_paper: number | null;
  /** how many of the row's seeds reused their reference run's teacher */
  shared_teacher_seeds: number;
  n_images: number;
}

interface CellScores {
  cell: GridCell;
  paths: string[];
  labels: number[];
  scores: Record<Method, number[] | null>;
}

function readCellScores(cell: GridCell): CellScores {
  const df = pl.readParquet(join(cell.runDir!, RUN_FILES.scores));
  const col = (name: string) => (df.columns.includes(name) ? (df.getColumn(name).cast(pl.Float64).toArray() as number[]) : null);
  return {
    cell,
    paths: df.getColumn("path").cast(pl.Utf8).toArray() as string[],
    labels: df.getColumn("label").cast(pl.Float64).toArray() as number[],
    scores: { ast: col("score_max"), "teacher-nll": col("teacher_nll_max") },
  };
}

/** The variant's scores in the reference's image order (they share the test set; checked). */
function aligned(ref: CellScores, other: CellScores, method: Method): number[] {
  const s = other.scores[method];
  if (!s) throw new Error(`${other.cell.runDir}: no ${method} scores in ${RUN_FILES.scores}`);
  const at = new Map(other.paths.map((p, i) => [p, i]));
  return ref.paths.map((p) => {
    const i = at.get(p);
    if (i === undefined) throw new Error(`${other.cell.runDir}: test image ${p} missing (the reference run ${ref.cell.runDir} has it): not the same test set`);
    return s[i];
  });
}

const PAPER_DATASETS: Record<string, "mvtecad" | "mvtec3d"> = { "Table 2": "mvtecad", "Table 3": "mvtec3d", "Table 4": "mvtec3d" };

/** "Table 5" -> "5" */
function tableNumber(paper: string): string {
  return paper.replace(/^Table\s*/i, "").trim();
}

function paperImageAuroc(table: string, mode: Mode, variant: string, paper: PaperNumber[]): number | null {
  const v = paperValue({ table, class: "mean", mode, variant, metric: "image_auroc" }, paper);
  return v ? v.value : null;
}

export interface AblationOptions {
  resamples?: number;
  /** bootstrap seed (default 0) */
  bootstrapSeed?: number;
  paper?: PaperNumber[];
}

/** The rows of an ablation, in the experiment's variant order per (data, class, mode). */
export function ablationTable(def: ExperimentDefinition, cells: GridCell[], o: AblationOptions = {}): AblationRow[] {
  const paper = o.paper ?? loadPaperNumbers();
  const table = tableNumber(def.paper);
  const variantOrder = Object.values(def.scales).flatMap((s) => s.variants.map((v) => v.name));
  const done = cells.filter((c) => c.runDir && c.metrics);
  const groups = Map.groupBy(done, (c) => `${c.data}\u0000${c.className}\u0000${c.mode}`);
  const rows: AblationRow[] = [];
  for (const group of groups.values()) {
    const { data, className, mode, reference } = group[0];
    const byVariant = Map.groupBy(group, (c) => c.variant);
    const refCells = byVariant.get(reference);
    if (!refCells?.length) continue; // nothing to compare with: the reference did not finish
    const refScores = new Map(refCells.map((c) => [c.seed, readCellScores(c)]));
    const refName = paperVariantName(reference, "ast");
    const paperRef: Record<Method, number | null> = {
      ast: paperImageAuroc(table, mode, refName, paper),
      "teacher-nll": paperImageAuroc(table, mode, paperVariantName(reference, "teacher-nll"), paper),
    };
    const specs: { variant: string; method: Method; against: Method; cells: GridCell[] }[] = [];
    const variants = [...byVariant.keys()].sort((a, b) => variantOrder.indexOf(a) - variantOrder.indexOf(b));
    for (const v of variants) specs.push({ variant: v, method: "ast", against: "ast", cells: byVariant.get(v)! });
    if (def.teacherRows === "reference") {
      specs.push({ variant: "teacher-nll", method: "teacher-nll", against: "ast", cells: refCells });
    } else if (def.teacherRows === "every-variant") {
      for (const v of variants) specs.push({ variant: v, method: "teacher-nll", against: "teacher-nll", cells: byVariant.get(v)! });
    }
    // the paper's row order; within a variant the teacher column before AST's, as the paper prints them
    const order = def.rowOrder ?? [...variantOrder, "teacher-nll"];
    const rank = (v: string) => (order.includes(v) ? order.indexOf(v) : order.length);
    specs.sort((a, b) => rank(a.variant) - rank(b.variant) || (a.method === b.method ? 0 : a.method === "teacher-nll" ? -1 : 1));
    for (const spec of specs) {
      const isReference = spec.variant === reference && spec.method === spec.against;
      const seeds = spec.cells.map((c) => c.seed).filter((s) => refScores.has(s)).sort((a, b) => a - b);
      if (!seeds.length) continue;
      const mine = new Map(spec.cells.map((c) => [c.seed, c]));
      const paired = seeds.map((seed) => {
        const ref = refScores.get(seed)!;
        const cell = mine.get(seed)!;
        const own = cell === ref.cell ? ref : readCellScores(cell);
        return { seed, ref, reference: aligned(ref, ref, spec.against), variant: aligned(ref, own, spec.method), cell };
      });
      const labels = paired[0].ref.labels;
      const aurocs = paired.map((p) => auroc(p.variant, labels));
      const pixel = paired.map((p) => (spec.method === "ast" ? p.cell.metrics!.pixel_auroc : p.cell.metrics!.teacher_nll?.pixel_auroc) ?? null);
      const pixelKnown = pixel.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      const paperMine = paperImageAuroc(table, mode, paperVariantName(spec.variant, spec.method), paper);
      const paperDiff = !isReference && paperMine !== null && paperRef[spec.against] !== null ? paperMine - paperRef[spec.against]! : null;
      let diff: AblationRow["diff_vs_ast"] = null, ci: AblationRow["diff_ci95"] = null, verdict: Verdict | null = null;
      if (!isReference) {
        const d = pairedAurocDifference(labels, paired.map((p) => ({ seed: p.seed, reference: p.reference, variant: p.variant })), {
          resamples: o.resamples ?? 2000,
          seed: o.bootstrapSeed ?? 0,
        });
        diff = d.estimate;
        ci = [d.lo, d.hi];
        verdict = verdictOf(d.lo, d.hi, seeds.length, paperDiff);
      }
      const paperOwn = paperOwnNumber(def.paper, group[0], mode, spec, paper);
      const mean = aurocs.reduce((a, b) => a + b, 0) / aurocs.length;
      rows.push({
        experiment: def.name,
        data,
        class: className,
        mode,
        variant: spec.variant,
        method: spec.method,
        reference: isReference,
        n_seeds: seeds.length,
        seeds,
        image_auroc: mean,
        image_auroc_sd: seedStd(aurocs),
        pixel_auroc: pixelKnown.length ? pixelKnown.reduce((a, b) => a + b, 0) / pixelKnown.length : null,
        diff_vs_ast: diff,
        diff_ci95: ci,
        verdict,
        paper_diff: paperDiff,
        paper: paperOwn,
        delta_vs_paper: paperOwn === null ? null : mean - paperOwn,
        shared_teacher_seeds: spec.method === "ast" ? paired.filter((p) => p.cell.teacherFrom || p.cell.metrics?.teacher_from).length : 0,
        n_images: labels.length,
      });
    }
  }
  return rows;
}

/** The verdict from an interval, the number of seeds and the paper's difference (see the module doc). */
export function verdictOf(lo: number, hi: number, nSeeds: number, paperDiff: number | null): Verdict {
  if (nSeeds < MIN_SEEDS_FOR_CLAIM || (lo <= 0 && hi >= 0)) return "not distinguishable";
  const ours = lo > 0 ? 1 : -1;
  if (paperDiff === null || paperDiff === 0) return ours > 0 ? "higher than AST" : "lower than AST";
  return Math.sign(paperDiff) === ours ? "same direction as the paper" : "opposite";
}

/**
 * The paper's own number for a row, only where the dataset and class are the paper's: the
 * run's layout is the paper's dataset for that table and the class is one of its classes.
 * Tables 5-7 report only MVTec 3D-AD means, so a single class never has one there.
 */
function paperOwnNumber(paperTable: string, cell: GridCell, mode: Mode, spec: { variant: string; method: Method }, paper: PaperNumber[]): number | null {
  const layout = cell.metrics?.layout;
  const dataset = PAPER_DATASETS[paperTable] ?? "mvtec3d";
  if (layout !== dataset) return null;
  const v = paperValue({ table: tableNumber(paperTable), class: cell.paperClass, mode, variant: paperVariantName(spec.variant, spec.method), metric: "image_auroc", dataset }, paper);
  return v ? v.value : null;
}

const f3 = (v: number | null | undefined) => (typeof v === "number" ? v.toFixed(3) : "");
const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(3)}`;

/** Rows for display: rounded, the interval and the seed spread as text. */
export function displayAblation(rows: AblationRow[]): Record<string, unknown>[] {
  return rows.map((r) => ({
    "data / class": `${r.data.split("/").filter(Boolean).pop()} / ${r.class}`,
    mode: r.mode,
    variant: r.method === "teacher-nll" && r.variant !== "teacher-nll" ? `teacher NLL: ${r.variant}` : r.variant,
    seeds: r.n_seeds,
    "image AUROC": `${f3(r.image_auroc)} ± ${f3(r.image_auroc_sd)}`,
    "pixel AUROC": f3(r.pixel_auroc),
    "Δ vs AST [95% CI]": r.diff_vs_ast === null ? "(reference)" : `${signed(r.diff_vs_ast)} [${signed(r.diff_ci95![0])}, ${signed(r.diff_ci95![1])}]`,
    verdict: r.verdict ?? "",
    "paper Δ (MVTec mean)": r.paper_diff === null ? "" : signed(r.paper_diff),
    paper: f3(r.paper),
    "Δ vs paper": r.delta_vs_paper === null ? "" : signed(r.delta_vs_paper),
    "shared teacher": r.shared_teacher_seeds ? `${r.shared_teacher_seeds}/${r.n_seeds} seeds` : "",
  }));
}

/** What the numbers say, in words: one sentence per compared row, generated from the verdicts. */
export function interpretAblation(rows: AblationRow[], describe: (row: AblationRow) => string = (r) => r.variant): string {
  const lines: string[] = [];
  for (const r of rows) {
    if (r.reference || r.diff_vs_ast === null) continue;
    const what = r.method === "teacher-nll" && r.variant !== "teacher-nll" ? `the teacher's NLL with ${describe(r)}` : describe(r);
    const against = r.method === "teacher-nll" && r.variant !== "teacher-nll" ? "the reference teacher" : "AST";
    const interval = `${signed(r.diff_vs_ast)} image AUROC (95% CI ${signed(r.diff_ci95![0])} to ${signed(r.diff_ci95![1])}, ${r.n_seeds} seeds x ${r.n_images} test images)`;
    const paperPart = r.paper_diff === null ? "the paper reports no number for this comparison" : `the paper: ${signed(r.paper_diff)} on its MVTec mean`;
    const where = `${r.class} (${r.mode})`;
    let sentence: string;
    switch (r.verdict) {
      case "same direction as the paper":
        sentence = `On ${where}, ${what} vs ${against}: ${interval}; the same direction as the paper (${paperPart}).`;
        break;
      case "opposite":
        sentence = `On ${where}, ${what} vs ${against}: ${interval}; the OPPOSITE of the paper (${paperPart}).`;
        break;
      case "higher than AST":
      case "lower than AST":
        sentence = `On ${where}, ${what} scores ${r.verdict === "higher than AST" ? "higher" : "lower"} than ${against}: ${interval}; ${paperPart}.`;
        break;
      default:
        sentence = `On ${where}, ${what} vs ${against}: ${interval}; not distinguishable at this scale${r.n_seeds < MIN_SEEDS_FOR_CLAIM ? ` (fewer than ${MIN_SEEDS_FOR_CLAIM} seeds)` : ""} (${paperPart}).`;
    }
    lines.push(`- ${sentence}`);
  }
  return lines.length ? lines.join("\n") : "- nothing to compare: no variant finished next to its reference.";
}

/** The --json rows of `deno task experiment` (docs in lib/cli/experiment.ts). */
export function ablationJsonRows(rows: AblationRow[]) {
  return rows.map((r) => ({
    data: r.data,
    class: r.class,
    mode: r.mode,
    variant: r.method === "teacher-nll" && r.variant !== "teacher-nll" ? `teacher-nll:${r.variant}` : r.variant,
    method: r.method,
    n_seeds: r.n_seeds,
    seeds: r.seeds,
    image_auroc: r.image_auroc,
    image_auroc_sd: r.image_auroc_sd,
    pixel_auroc: r.pixel_auroc,
    diff_vs_ast: r.diff_vs_ast,
    diff_ci95: r.diff_ci95,
    verdict: r.verdict,
    paper_diff: r.paper_diff,
    paper: r.paper,
    delta_vs_paper: r.delta_vs_paper,
    shared_teacher_seeds: r.shared_teacher_seeds,
    n_images: r.n_images,
  }));
}

const VERDICT_COLOURS: [Verdict, string][] = [
  ["same direction as the paper", "#1b7837"],
  ["opposite", "#c51b7d"],
  ["not distinguishable", "#777777"],
  ["higher than AST", "#2166ac"],
  ["lower than AST", "#b2182b"],
];

/**
 * The paired differences as a chart: one horizontal interval per compared row (the variant on
 * the y axis, so long names never collide), a zero line, the point coloured by its verdict;
 * one panel per dataset, class and mode.
 */
export function differenceChart(rows: AblationRow[], title = "Paired difference to AST"): VegaLiteSpec {
  const values = rows.filter((r) => r.diff_vs_ast !== null).map((r) => ({
    panel: `${r.class} · ${r.mode}`,
    variant: r.method === "teacher-nll" && r.variant !== "teacher-nll" ? `teacher NLL: ${r.variant}` : r.variant,
    diff: round6(r.diff_vs_ast!),
    lo: round6(r.diff_ci95![0]),
    hi: round6(r.diff_ci95![1]),
    verdict: r.verdict,
    seeds: r.n_seeds,
  }));
  const used = VERDICT_COLOURS.filter(([v]) => values.some((x) => x.verdict === v));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title, "mean over seeds of AUROC(variant) − AUROC(AST), 95% paired bootstrap interval (test images × seeds)"),
    data: { values },
    // panels in the table's order (dataset, then mode), not alphabetical
    facet: { row: { field: "panel", type: "nominal", title: null, sort: [...new Set(values.map((v) => v.panel))], header: { labelAngle: 0, labelAlign: "left", labelFontSize: 12 } } },
    spec: {
      width: 360,
      layer: [
        { mark: { type: "rule", color: "#999", strokeDash: [4, 3] }, encoding: { x: { datum: 0, type: "quantitative" } } },
        {
          mark: { type: "rule", strokeWidth: 2 },
          encoding: {
            y: { field: "variant", type: "nominal", title: null, axis: { labelLimit: 0 } },
            x: { field: "lo", type: "quantitative", title: "Δ image AUROC vs AST" },
            x2: { field: "hi" },
            color: { field: "verdict", type: "nominal", scale: { domain: used.map(([v]) => v), range: used.map(([, c]) => c) }, legend: { title: "verdict", labelLimit: 0, orient: "bottom", direction: "vertical" } },
          },
        },
        {
          mark: { type: "point", filled: true, size: 60 },
          encoding: {
            y: { field: "variant", type: "nominal" },
            x: { field: "diff", type: "quantitative" },
            color: { field: "verdict", type: "nominal" },
            tooltip: [{ field: "variant" }, { field: "diff", format: "+.3f" }, { field: "lo", format: "+.3f" }, { field: "hi", format: "+.3f" }, { field: "seeds" }, { field: "verdict" }],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as VegaLiteSpec;
}
