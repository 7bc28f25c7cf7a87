/**
 * lib/experiment: experiment grids — a paper table or ablation as datasets x modes x variants x
 * seeds at a scale; every cell an ordinary run (lib/run) under a folder named by what determines
 * its result, reused when recorded. The definitions themselves live in experiments/.
 * May import: lib/run, lib/results, lib/config, lib/data, lib/features (weights checksums),
 * lib/types.ts, lib/util.
 */
export { datasetRoot, type DatasetRef, type ExperimentDefinition, experimentScale, type GridCell, gridCells, type GridSpec, openDatasetRef, referenceVariant, runGrid, type Scale, SCALES, type Variant } from "./grid.ts";
