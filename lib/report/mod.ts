/**
 * lib/report: what notebooks show about experiments and runs — ours-vs-paper tables and bars
 * (paper_tables.ts), ablation tables with paired differences and verdicts (ablation.ts), grid progress lines, a run's progress in the terminal (terminal_progress.ts), the Figure-1-like qualitative panel, loss curves, ROC and anomaly-map grids of a run (run_figures.ts).
 * May import: lib/results, lib/experiment (grid cells), lib/run (ground truth), lib/data,
 * lib/metrics, lib/viz, lib/io, lib/util.
 */
export { cellRuns, comparisonBars, displayComparison, paperComparison, paperVariantName } from "./paper_tables.ts";
export { experimentTableText, isPaperTable } from "./experiment_table.ts";
export { type AblationRow, ablationJsonRows, ablationTable, differenceChart, displayAblation, interpretAblation, MIN_SEEDS_FOR_CLAIM, verdictOf } from "./ablation.ts";
export { anomalyMapGrid, imageRoc, lossCurves } from "./run_figures.ts";
export { gridProgress } from "./grid_progress.ts";
export { progressStyle, progressText, terminalLog } from "./terminal_progress.ts";
export { type PanelOptions, qualitativePanel } from "./qualitative_panel.ts";
