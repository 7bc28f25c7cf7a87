/**
 * lib/experiment: experiment grids — a paper table or ablation as datasets x modes x variants x
 * seeds at a scale; every cell an ordinary run (lib/run) under a folder named by what determines
 * its result, reused when recorded (grid.ts; its pure part, the cells of a grid, grid_spec.ts), and
 * what the paper's tables cost from measured step times (cost.ts, image counts class_counts.ts).
 * A grid as a Slurm job array (slurm/: the sbatch script, submissions, squeue, the status view);
 * the cell locks every runner shares (cell_lock.ts).
 * The definitions themselves live in experiments/.
 * May import: lib/run, lib/results, lib/config, lib/data, lib/features (weights checksums),
 * lib/types.ts, lib/util.
 */
export { cellFailurePath, cellLockPath, datasetRoot, type DatasetRef, type ExperimentDefinition, experimentScale, type GridCell, gridCells, type GridPlan, type GridSpec, openDatasetRef, type PlannedCell, planGrid, referenceVariant, resultsRootOf, runGrid, runPlannedCell, type Scale, SCALES, type Variant } from "./grid.ts";
export { type CellState, type CellStatus, gridStatus, statusTable } from "./slurm/status.ts";
export { sbatchScript, type SlurmResources } from "./slurm/sbatch_script.ts";
export { listSubmissions, submit, writeSubmission } from "./slurm/submission.ts";
export { type ClassCounts, classCounts, countsKey, countsOfRefs, type CountSource } from "./class_counts.ts";
export { cellHours, type CostCell, costCells, type CostEstimate, estimateCost, type ExperimentCost, type Hours, type NetworkShape, type StepTimes, trainingSplit } from "./cost.ts";
