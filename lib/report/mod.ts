/**
 * lib/report: what notebooks show about experiments and runs — ours-vs-paper tables and bars
 * (paper_tables.ts), loss curves, ROC and anomaly-map grids of a run (run_figures.ts).
 * May import: lib/results, lib/experiment (grid cells), lib/run (ground truth), lib/data,
 * lib/metrics, lib/viz, lib/io, lib/util.
 */
export { cellRuns, comparisonBars, displayComparison, paperComparison, paperVariantName } from "./paper_tables.ts";
export { type AblationRow, ablationJsonRows, ablationTable, displayAblation, interpretAblation, MIN_SEEDS_FOR_CLAIM, verdictOf } from "./ablation.ts";
export { anomalyMapGrid, imageRoc, lossCurves } from "./run_figures.ts";
