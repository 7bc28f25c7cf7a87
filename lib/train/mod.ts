/**
 * lib/train: the training engine (seeded shuffled epochs, a finiteness check per step, per-epoch
 * hooks), Adam with PyTorch semantics and resumable checkpoints in safetensors.
 * May import: lib/ops, lib/models (parameters, state dicts), lib/config (Adam's config), lib/io, lib/util.
 */
export { Adam, type AdamConfig, REFERENCE_ADAM } from "./adam.ts";
export { type EpochReport, type LoopOptions, type TrainData, trainLoop, TrainingError } from "./engine.ts";
export { type CheckpointMeta, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
