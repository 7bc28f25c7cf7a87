/**
 * lib/results: run records on disk and across runs — the files of one run (record.ts writes them,
 * run_files.ts names them, model_card.ts is what scoring needs), provenance, the store that loads
 * every run into nodejs-polars frames, the paper's numbers and the ours-vs-paper comparison.
 * May import: lib/types.ts, lib/config (types), lib/metrics, lib/io, lib/util, lib/backend (BackendInfo type).
 */
export { type FeatureRecord, memorySummary, type RunConfigFile, type RunRecord, summariseScores, writeRunConfig, writeRunResults } from "./record.ts";
export { readJson, readScoresParquet, RUN_FILES, type ScoreRow, writeJsonAtomic } from "./run_files.ts";
export { type ModelCard, readModelCard } from "./model_card.ts";
export { loadRuns, loadScores } from "./store.ts";
export { compareWithPaper, meanRow } from "./compare.ts";
export { loadPaperNumbers, paperValue } from "./paper_numbers.ts";
