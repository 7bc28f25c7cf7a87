/**
 * Our runs next to the paper's numbers: one row per paper key (table x class x mode x variant x
 * metric) with our mean over seeds, a bootstrap interval over test images, the paper's value and
 * source mark, and the difference. Which paper row a run belongs to is the caller's choice (a
 * mapping function), so the same code serves Tables 2-7 and any ablation.
 *
 * Seeds are pooled, not listed: the test images of a class are resampled once per replicate and
 * every seed's AUROC is computed on that same resample (paired, when the runs scored the same
 * images), then averaged. The interval is thus the test-set uncertainty of the seed-mean, the
 * number the table shows. Seed-to-seed spread is reported separately (ours_sd).
 */
import pl from "nodejs-polars";
import { bootstrapAurocReplicates, type BootstrapOptions, percentileInterval } from "../metrics/bootstrap.ts";
import { deriveSeed } from "../util/random.ts";
import { keyString, loadPaperNumbers, type PaperKey, type PaperNumber, paperValue } from "./paper_numbers.ts";
import { readScoresParquet } from "./run_files.ts";
import { sampleStd } from "../metrics/sample_std.ts";

export interface CompareSpec {
  /** The paper row a run stands for, or null to leave the run out. Gets a row of loadRuns().runs. */
  key: (run: Record<string, unknown>) => PaperKey | null;
  /**
   * Run column holding "ours". Default by metric: image_auroc -> image_auroc_max (the paper's
   * image score is the map's maximum), pixel_auroc -> pixel_auroc, otherwise the metric's name.
   */
  ours?: string;
  /** bootstrap settings (default 1000 resamples, seed 0, alpha 0.05); false skips the intervals */
  bootstrap?: BootstrapOptions | false;
  /** paper numbers (default: data/paper_numbers.json) */
  paper?: PaperNumber[];
  /** add a `boot` list column with each row's replicates (meanRow needs it for the mean's interval) */
  keepReplicates?: boolean;
}

/** One row of the comparison table. */
export interface ComparisonRow {
  table: string;
  class: string;
  mode: string;
  variant: string;
  metric: string;
  /** mean over the runs (seeds) of the `ours` column */
  ours: number | null;
  /** sample standard deviation over seeds (null for fewer than 2) */
  ours_sd: number | null;
  /** (1 - alpha) percentile-bootstrap interval of `ours` over test images (image AUROC only) */
  ci_lo: number | null;
  ci_hi: number | null;
  paper: number | null;
  paper_mark: string | null;
  /** ours - paper */
  delta: number | null;
  /** distinct seeds among the runs averaged */
  n_seeds: number;
  /** runs averaged (one per seed, unless a seed was run twice) */
  n_runs: number;
  /** distinct test images behind the interval (null without scores) */
  n_images: number | null;
  boot?: number[] | null;
}

/** The scores.parquet column behind each image-AUROC column of `runs` (for the bootstrap). */
const SCORE_COLUMN: Record<string, string> = {
  image_auroc_max: "score_max",
  image_auroc_mean: "score_mean",
  teacher_nll_image_auroc_max: "teacher_nll_max",
  teacher_nll_image_auroc_mean: "teacher_nll_mean",
};

function defaultOurs(metric: string): string {
  return metric === "image_auroc" ? "image_auroc_max" : metric;
}

export function compareWithPaper(runs: pl.DataFrame, spec: CompareSpec): pl.DataFrame {
  const paper = spec.paper ?? loadPaperNumbers();
  const groups = new Map<string, { key: PaperKey; runs: Record<string, unknown>[] }>();
  for (const run of runs.toRecords() as Record<string, unknown>[]) {
    const key = spec.key(run);
    if (!key) continue;
    const id = keyString(key);
    if (!groups.has(id)) groups.set(id, { key, runs: [] });
    groups.get(id)!.runs.push(run);
  }
  const rows: ComparisonRow[] = [];
  for (const [id, { key, runs: group }] of groups) {
    const oursColumn = spec.ours ?? defaultOurs(key.metric);
    if (group.length && !(oursColumn in group[0])) throw new Error(`compareWithPaper: runs have no column '${oursColumn}'`);
    const used = group.filter((r) => typeof r[oursColumn] === "number" && Number.isFinite(r[oursColumn]));
    const values = used.map((r) => r[oursColumn] as number);
    const ours = values.length ? mean(values) : null;
    const boot = spec.bootstrap === false || !SCORE_COLUMN[oursColumn] ? null : pooledReplicates(used, SCORE_COLUMN[oursColumn], id, spec.bootstrap ?? {});
    const interval = boot ? percentileInterval(boot.replicates, (spec.bootstrap || {}).alpha) : null;
    const p = paperValue(key, paper);
    rows.push({
      table: key.table,
      class: key.class,
      mode: key.mode,
      variant: key.variant,
      metric: key.metric,
      ours,
      ours_sd: values.length >= 2 ? sampleStd(values) : null,
      ci_lo: interval?.lo ?? null,
      ci_hi: interval?.hi ?? null,
      paper: p?.value ?? null,
      paper_mark: p?.mark ?? null,
      delta: ours !== null && p ? ours - p.value : null,
      n_seeds: new Set(used.map((r) => r.seed)).size,
      n_runs: used.length,
      n_images: boot?.nImages ?? null,
      ...(spec.keepReplicates ? { boot: boot ? Array.from(boot.replicates) : null } : {}),
    });
  }
  return comparisonFrame(sortRows(rows), !!spec.keepReplicates);
}

/**
 * Per-resample AUROC averaged over the runs of one group. Each run's scores are ordered by path;
 * when all runs scored the same images with the same labels they share one bootstrap seed, so
 * replicate r resamples the same images for every seed (paired). Otherwise each run gets its own
 * stream. The seed also depends on the group, so different classes resample independently.
 */
function pooledReplicates(
  runs: Record<string, unknown>[],
  scoreColumn: string,
  groupId: string,
  options: BootstrapOptions,
): { replicates: Float64Array; nImages: number } | null {
  const frames = runs.map((r) => readScoresParquet(String(r.run_dir)).sort("path"));
  // Runs recorded before the teacher's per-image scores were kept have no interval for them.
  if (frames.some((df) => !df.columns.includes(scoreColumn))) return null;
  const sets = runs.map((r, i) => {
    const df = frames[i];
    return {
      run_dir: String(r.run_dir),
      paths: df.getColumn("path").toArray() as string[],
      labels: (df.getColumn("label").toArray() as number[]).map(Number),
      scores: (df.getColumn(scoreColumn).toArray() as number[]).map(Number),
    };
  }).filter((s) => s.labels.some((l) => l > 0) && s.labels.some((l) => !(l > 0)));
  if (sets.length === 0) return null;
  const same = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const aligned = sets.every((s) => same(s.paths, sets[0].paths) && same(s.labels, sets[0].labels));
  const base = options.seed ?? 0;
  const replicates = new Float64Array(options.resamples ?? 1000);
  for (const s of sets) {
    const seed = deriveSeed(base, aligned ? groupId : `${groupId}|${s.run_dir}`);
    const rep = bootstrapAurocReplicates(s.scores, s.labels, { ...options, seed });
    for (let i = 0; i < rep.length; i++) replicates[i] += rep[i];
  }
  for (let i = 0; i < replicates.length; i++) replicates[i] /= sets.length;
  return { replicates, nImages: new Set(sets.flatMap((s) => s.paths)).size };
}

export interface MeanRowOptions {
  /** interval level for the mean rows (default 0.05, as compareWithPaper's default) */
  alpha?: number;
  /** paper numbers (default: data/paper_numbers.json) */
  paper?: PaperNumber[];
}

/**
 * Appends a `class = "mean"` row per (table, mode, variant, metric): ours = mean over the class
 * rows; its interval averages the classes' bootstrap replicates (needs the `boot` column of
 * keepReplicates, else null; classes resample independently, so averaging replicate r across
 * classes is a joint resample). The paper side is the paper's own mean when the rows cover every
 * class the paper lists, else the mean of the rows' paper values, marked `mean(<marks>)`.
 * n_seeds is the fewest of any class; n_runs and n_images are sums. Existing mean rows are kept.
 */
export function meanRow(table: pl.DataFrame, { alpha = 0.05, paper = loadPaperNumbers() }: MeanRowOptions = {}): pl.DataFrame {
  const withBoot = table.columns.includes("boot");
  const rows = table.toRecords() as unknown as ComparisonRow[];
  const groups = new Map<string, ComparisonRow[]>();
  for (const r of rows) {
    if (r.class === "mean") continue;
    const id = [r.table, r.mode, r.variant, r.metric].join("\u0000");
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(r);
  }
  const added: ComparisonRow[] = [];
  for (const g of groups.values()) {
    const { table: t, mode, variant, metric } = g[0];
    const ours = g.every((r) => r.ours !== null) ? mean(g.map((r) => r.ours!)) : null;
    let ci: { lo: number; hi: number } | null = null;
    const boots = g.map((r) => r.boot);
    if (withBoot && ours !== null && boots.every((b) => b && b.length === boots[0]!.length)) {
      const avg = new Float64Array(boots[0]!.length);
      for (const b of boots) for (let i = 0; i < avg.length; i++) avg[i] += b![i];
      for (let i = 0; i < avg.length; i++) avg[i] /= boots.length;
      ci = percentileInterval(avg, alpha);
    }
    const side = paperMean(g, paper);
    added.push({
      table: t,
      class: "mean",
      mode,
      variant,
      metric,
      ours,
      ours_sd: null,
      ci_lo: ci?.lo ?? null,
      ci_hi: ci?.hi ?? null,
      paper: side?.value ?? null,
      paper_mark: side?.mark ?? null,
      delta: ours !== null && side ? ours - side.value : null,
      n_seeds: Math.min(...g.map((r) => r.n_seeds)),
      n_runs: g.reduce((a, r) => a + r.n_runs, 0),
      n_images: g.every((r) => r.n_images !== null) ? g.reduce((a, r) => a + r.n_images!, 0) : null,
      ...(withBoot ? { boot: null } : {}),
    });
  }
  return comparisonFrame(sortRows([...rows, ...added]), withBoot);
}

/** The paper's value for a mean row over the classes of `g` (see meanRow). */
function paperMean(g: ComparisonRow[], paper: PaperNumber[]): { value: number; mark: string } | null {
  const { table, mode, variant, metric } = g[0];
  const listed = paper.filter((p) =>
    p.table === table && p.mode === mode && p.variant === variant && p.metric === metric && !p.class.startsWith("mean")
  );
  const shown = new Set(g.map((r) => r.class));
  const own = paperValue({ table, class: "mean", mode: mode as PaperKey["mode"], variant, metric: metric as PaperKey["metric"] }, paper);
  if (own && listed.length > 0 && listed.every((p) => shown.has(p.class))) return { value: own.value, mark: own.mark };
  if (!g.every((r) => r.paper !== null)) return null;
  const marks = [...new Set(g.map((r) => r.paper_mark))].sort().join(",");
  return { value: mean(g.map((r) => r.paper!)), mark: `mean(${marks})` };
}

const MODE_ORDER: Record<string, number> = { depth: 0, rgb: 1, combi: 2 };

/** table, metric, variant, mode (depth, rgb, combi), then class with "mean" last. */
function sortRows(rows: ComparisonRow[]): ComparisonRow[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) =>
    cmp(a.table, b.table) || cmp(a.metric, b.metric) || cmp(a.variant, b.variant) ||
    (MODE_ORDER[a.mode] ?? 9) - (MODE_ORDER[b.mode] ?? 9) ||
    Number(a.class === "mean") - Number(b.class === "mean") || cmp(a.class, b.class)
  );
}

function comparisonFrame(rows: ComparisonRow[], withBoot: boolean): pl.DataFrame {
  const col = <K extends keyof ComparisonRow>(k: K) => rows.map((r) => r[k] ?? null);
  return pl.DataFrame([
    pl.Series("table", col("table"), pl.Utf8),
    pl.Series("class", col("class"), pl.Utf8),
    pl.Series("mode", col("mode"), pl.Utf8),
    pl.Series("variant", col("variant"), pl.Utf8),
    pl.Series("metric", col("metric"), pl.Utf8),
    pl.Series("ours", col("ours"), pl.Float64),
    pl.Series("ours_sd", col("ours_sd"), pl.Float64),
    pl.Series("ci_lo", col("ci_lo"), pl.Float64),
    pl.Series("ci_hi", col("ci_hi"), pl.Float64),
    pl.Series("paper", col("paper"), pl.Float64),
    pl.Series("paper_mark", col("paper_mark"), pl.Utf8),
    pl.Series("delta", col("delta"), pl.Float64),
    pl.Series("n_seeds", col("n_seeds"), pl.Int64),
    pl.Series("n_runs", col("n_runs"), pl.Int64),
    pl.Series("n_images", col("n_images"), pl.Int64),
    ...(withBoot ? [pl.Series("boot", col("boot"), pl.List(pl.Float64))] : []),
  ]);
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}
