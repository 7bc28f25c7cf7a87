/**
 * lib/run: one AST run as named stages (run.ts chains them) — resolve.ts, split.ts, features.ts
 * (with inputs.ts, the input stage shared with scoring), fit.ts, evaluate.ts, record.ts — plus a
 * finished run loaded as a model (trained.ts) and scoring new images with it (score.ts).
 * May import everything below it: config, data, preprocess, features, models, train, metrics,
 * results, io, backend (to initialise it), viz (score figures). Never experiment, report, cli, tools.
 */
export { runExperiment, type RunResult } from "./run.ts";
export { claimRunOut, resolveRun, type ResolvedRun, runConfig, RunError, type RunOptions } from "./resolve.ts";
export { holdApartNormals, type SplitDataset } from "./split.ts";
export { extractFeatures, runBackbone, type RunBackbone, type RunFeatures } from "./features.ts";
export { fitStudent, fitTeacher, trainingTensors, type TrainingRun } from "./fit.ts";
export { type Evaluation, evaluateRun, scoringInput } from "./evaluate.ts";
export { recordRun } from "./record.ts";
export { buildInputs, type FeatureSet, groundTruth, inputChannels, readGroundTruth } from "./inputs.ts";
export { loadTrainedModel, pixelOutputs, type TrainedModel } from "./trained.ts";
export { openScoringModel, scoreImageFile, scoreInputs, writeScoreOutputs } from "./score.ts";
