/**
 * From an experiment's grid cells to the tables the notebooks show: the runs as a polars frame
 * (one row per cell, with its variant), and "ours vs the paper" comparisons with bootstrap
 * intervals. A class the paper does not have (the generated puck at demo scale) shows ours alone:
 * the paper's numbers appear only where dataset and class are the paper's.
 */
import pl from "nodejs-polars";
import type { GridCell } from "../experiment/grid.ts";
import { loadRuns } from "../results/store.ts";
import { compareWithPaper, meanRow } from "../results/compare.ts";
import { loadPaperNumbers, type PaperKey, type PaperMetric, variantName } from "../results/paper_numbers.ts";
import { dirname } from "node:path";

/**
 * The runs of the cells (complete ones), with experiment, variant and paper_class columns. The
 * store is the cells' own (`<store>/runs/<cell>`: $AST_RESULTS, a cluster's shared folder) unless
 * given.
 */
export function cellRuns(cells: GridCell[], resultsRoot?: string): pl.DataFrame {
  const done = cells.filter((c) => c.runDir && c.metrics);
  if (!done.length) throw new Error("no finished runs among the cells (did the grid run?)");
  const { runs } = loadRuns(resultsRoot ?? dirname(dirname(done[0].runDir!)));
  const cellFrame = pl.DataFrame({
    run_dir: done.map((c) => c.runDir!),
    experiment: done.map((c) => c.experiment),
    variant: done.map((c) => c.variant),
    paper_class: done.map((c) => c.paperClass),
  });
  return cellFrame.join(runs, { on: "run_dir", how: "inner" });
}

/** "pos_enc=yes,mask=no" -> {pos_enc: "yes", mask: "no"}; "ast" -> {} */
function settingsOf(variant: string): Record<string, string> {
  return Object.fromEntries(variant.split(",").filter((p) => p.includes("=")).map((p) => p.split("=") as [string, string]));
}

export interface PaperComparisonOptions {
  table: string;
  metric?: PaperMetric;
  /** whose score: the student-teacher distance (ast) or the teacher's own NLL */
  method?: "ast" | "teacher-nll";
  /** the paper's variant name for a grid variant (default: method + the variant's key=value settings, or the variant itself for ast/nf-student...) */
  paperVariant?: (variant: string, method: string) => string;
  bootstrap?: false | { resamples?: number; seed?: number };
}

const DEFAULT_OURS: Record<string, Record<string, string>> = {
  "ast": { image_auroc: "image_auroc_max", pixel_auroc: "pixel_auroc" },
  "teacher-nll": { image_auroc: "teacher_nll_image_auroc_max", pixel_auroc: "teacher_nll_pixel_auroc" },
};

/** The paper's variant name for a grid variant scored by `method` ("pos_enc=no,mask=yes" -> "ast,mask=yes,pos_enc=no"). */
export function paperVariantName(variant: string, method: string): string {
  const settings = settingsOf(variant);
  if (Object.keys(settings).length) return variantName(method, settings);
  return method === "teacher-nll" ? "teacher-nll" : variant;
}

/**
 * Ours vs the paper for the runs of one table (see compareWithPaper for the columns). Like with
 * like: a row gets the paper's number only when its dataset (the run's layout) and class are the
 * paper's; other rows (a synthetic class, your own data) show ours alone. With two or more of the
 * paper's classes a `mean` row averages them (the paper's own mean only when every class it lists
 * is there, see meanRow); non-paper classes never enter it.
 */
export function paperComparison(runs: pl.DataFrame, o: PaperComparisonOptions): pl.DataFrame {
  const metric = o.metric ?? "image_auroc";
  const method = o.method ?? "ast";
  const paper = loadPaperNumbers();
  const toVariant = o.paperVariant ?? paperVariantName;
  const ourClasses = new Map<string, Set<string>>();
  // replicates exist for image AUROC only (pixel scores of one image are not independent)
  const keepReplicates = o.bootstrap !== false && metric === "image_auroc";
  const table = compareWithPaper(runs, {
    ours: DEFAULT_OURS[method][metric],
    bootstrap: o.bootstrap === false ? false : { resamples: o.bootstrap?.resamples ?? 1000, seed: o.bootstrap?.seed ?? 0 },
    keepReplicates,
    paper,
    key: (run) => {
      const layout = typeof run.layout === "string" && (run.layout === "mvtecad" || run.layout === "mvtec3d") ? run.layout : undefined;
      // a layout the paper has no table for (a plain folder) never matches one of its rows
      const key: PaperKey = {
        table: o.table,
        mode: String(run.mode) as PaperKey["mode"],
        variant: toVariant(String(run.variant), method),
        metric,
        class: String(run.paper_class),
        dataset: layout ?? ("none" as PaperKey["dataset"]),
      };
      const id = `${key.class}|${key.mode}|${key.variant}`;
      if (!ourClasses.has(id)) ourClasses.set(id, new Set());
      ourClasses.get(id)!.add(String(run.class));
      return key;
    },
  });
  const paperRows = table.filter(pl.col("paper").isNotNull());
  const classesPerGroup = new Map<string, Set<string>>();
  for (const r of paperRows.toRecords()) {
    const id = `${r.mode}|${r.variant}`;
    if (!classesPerGroup.has(id)) classesPerGroup.set(id, new Set());
    classesPerGroup.get(id)!.add(String(r.class));
  }
  const withMean = [...classesPerGroup.values()].some((c) => c.size >= 2)
    ? pl.concat([table.filter(pl.col("paper").isNull()), meanRow(paperRows, { paper }), ...groupMeanRows(paperRows, paper)], { how: "diagonal" })
    : table;
  const out = keepReplicates && withMean.columns.includes("boot") ? withMean.drop("boot") : withMean;
  const comparedWith = out.toRecords().map((r) => {
    if (r.class === "mean") return `mean over the paper's classes shown (${[...(classesPerGroup.get(`${r.mode}|${r.variant}`) ?? [])].join(", ")})`;
    if (String(r.class).startsWith("mean_")) return `${String(r.class).slice(5)}: mean over those of the paper's classes shown`;
    const ours = [...(ourClasses.get(`${r.class}|${r.mode}|${r.variant}`) ?? [])].join(", ");
    return r.paper === null ? `ours alone: ${ours} is not a class of the paper's dataset` : `the paper's ${r.class}`;
  });
  return out.withColumn(pl.Series("compared_with", comparedWith, pl.Utf8));
}

/** MVTec AD's class groups, as the paper's Table 2 averages them. */
export const MVTEC_AD_GROUPS: Record<"mean_textures" | "mean_objects", string[]> = {
  mean_textures: ["carpet", "grid", "leather", "tile", "wood"],
  mean_objects: ["bottle", "cable", "capsule", "hazelnut", "metal_nut", "pill", "screw", "toothbrush", "transistor", "zipper"],
};

/**
 * Textures and objects rows (MVTec AD), each over the group's classes shown when there are two
 * or more: ours their mean, the paper's side the mean of the same classes' paper numbers.
 */
function groupMeanRows(paperRows: pl.DataFrame, paper: ReturnType<typeof loadPaperNumbers>): pl.DataFrame[] {
  const out: pl.DataFrame[] = [];
  for (const [group, classes] of Object.entries(MVTEC_AD_GROUPS)) {
    const rows = paperRows.filter(pl.col("class").isIn(classes));
    if (rows.height < 2 || new Set(rows.getColumn("class").toArray()).size < 2) continue;
    const means = meanRow(rows, { paper }).filter(pl.col("class").eq(pl.lit("mean")));
    out.push(means.withColumn(pl.Series("class", new Array(means.height).fill(group), pl.Utf8)));
  }
  return out;
}

/** A compact table for display: rounded numbers, the interval as text. */
export function displayComparison(t: pl.DataFrame, digits = 3): Record<string, unknown>[] {
  const f = (v: unknown) => (typeof v === "number" ? v.toFixed(digits) : v ?? "");
  // Modes in their order of appearance; variants in natural order (n_st_blocks=2 before =12).
  // Rows in the paper's order: its classes as its tables list them, the mean last, ours alone after.
  const modes = [...new Set(t.getColumn("mode").toArray() as string[])];
  const paperOrder = [...new Set(loadPaperNumbers().map((p) => p.class))];
  const classRank = (r: Record<string, unknown>) => {
    const c = String(r.class);
    if (c === "mean_textures") return 1e6 - 2;
    if (c === "mean_objects") return 1e6 - 1;
    return c === "mean" ? 1e6 : r.paper === null || r.paper === undefined ? 2e6 : paperOrder.indexOf(c);
  };
  const records = t.toRecords().sort((a, b) =>
    modes.indexOf(String(a.mode)) - modes.indexOf(String(b.mode)) ||
    String(a.variant).localeCompare(String(b.variant), "en", { numeric: true }) ||
    classRank(a) - classRank(b) || String(a.class).localeCompare(String(b.class))
  );
  return records.map((r) => ({
    mode: r.mode,
    variant: r.variant,
    class: r.class,
    "ours ± seed sd": typeof r.ours === "number" ? `${f(r.ours)}${typeof r.ours_sd === "number" ? ` ± ${f(r.ours_sd)}` : ""}` : "",
    "95% CI": typeof r.ci_lo === "number" ? `[${(r.ci_lo as number).toFixed(digits)}, ${(r.ci_hi as number).toFixed(digits)}]` : "",
    paper: f(r.paper),
    mark: r.paper_mark ?? "",
    delta: f(r.delta),
    seeds: r.n_seeds,
    images: r.n_images ?? "",
    "compared with": r.compared_with,
  }));
}

/** Bars for a comparison table: ours (with its interval) next to the paper, grouped per row. */
export function comparisonBars(
  t: pl.DataFrame,
  group: (row: Record<string, unknown>) => string = (r) => `${r.mode} ${r.variant}`,
): { group: string; name: string; value: number; lo?: number; hi?: number }[] {
  return t.toRecords().flatMap((r) => {
    const g = group(r);
    const bars: { group: string; name: string; value: number; lo?: number; hi?: number }[] = [];
    if (typeof r.ours === "number") {
      bars.push({ group: g, name: "ours", value: r.ours, ...(typeof r.ci_lo === "number" ? { lo: r.ci_lo, hi: r.ci_hi as number } : {}) });
    }
    if (typeof r.paper === "number") bars.push({ group: g, name: `paper${r.class === "mean" ? " (mean)" : ""}`, value: r.paper });
    return bars;
  });
}
