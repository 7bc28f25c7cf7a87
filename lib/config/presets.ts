/**
 * Presets: the paper's hyperparameters per dataset (`paper`), a scale that fits a 2-core CPU
 * (`cpu`), a minutes-long one (`demo`) and the exact calibration configuration of
 * docs/REFERENCE_RESULTS.md (`reference-small`).
 */
import type { DatasetLayout, Mode, PresetName } from "../types.ts";
import type { AdamConfig, AstConfig } from "./ast_config.ts";

const ADAM: AdamConfig = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 };

function base(mode: Mode, dataset: DatasetLayout): AstConfig {
  const useMask = dataset === "mvtec3d" && mode !== "rgb";
  return {
    preset: "paper",
    mode,
    seed: 0,
    mapLen: 24,
    backbone: "efficientnet-b5",
    layer: null,
    weights: null,
    backboneFallback: false,
    posEncDim: 32,
    posEnc: true,
    trainMask: useMask,
    evalMask: useMask,
    // Paper: alpha 1.9 / hidden 64 / 72 epochs on MVTec 3D-AD; alpha 3 / hidden 1024 / 240 on MVTec AD.
    teacher: dataset === "mvtec3d"
      ? { hidden: 64, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9, epochs: 72, permutations: "reference" }
      : { hidden: 1024, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 3, epochs: 240, permutations: "reference" },
    student: { kind: "asymmetric", hidden: 1024, nBlocks: 4, leakySlope: 0.01, epochs: dataset === "mvtec3d" ? 72 : 240 },
    scoring: "student",
    batchSize: 8,
    adam: { ...ADAM },
    preprocess: { fills: 3, bgThresh: 7e-3, dilateSize: 8 },
    checkpointEvery: 1,
    holdoutFraction: 0.1,
    threshold: "fpr:0.05",
  };
}

/** The preset's config for a dataset layout and mode (before any patch). */
export function presetConfig(preset: PresetName, mode: Mode, dataset: DatasetLayout): AstConfig {
  const c = base(mode, dataset);
  c.preset = preset;
  switch (preset) {
    case "paper":
      c.checkpointEvery = 4;
      // The paper trains on every train/good image; a threshold then needs validation data.
      c.holdoutFraction = 0;
      return c;
    case "cpu":
      // Hours on a 2-core CPU: the paper's teacher at 3D size, a 4x narrower student.
      c.backbone = "mobilenet_v2";
      c.backboneFallback = true;
      c.teacher.hidden = 64;
      c.student.hidden = 256;
      c.teacher.epochs = c.student.epochs = dataset === "mvtec3d" ? 72 : 120;
      return c;
    case "demo":
      // Minutes on 2 cores: a 16x16 map (128x128 depth), a narrow, shallow student.
      c.backbone = "mobilenet_v2";
      c.backboneFallback = true;
      c.mapLen = 16;
      c.teacher.hidden = 64;
      c.student.hidden = 128;
      c.student.nBlocks = 2;
      c.teacher.epochs = c.student.epochs = 20;
      return c;
    case "reference-small":
      // docs/REFERENCE_RESULTS.md: teacher hidden 64, student hidden 256 x 4 blocks, 24 epochs each.
      c.backbone = "mobilenet_v2";
      c.backboneFallback = true;
      c.teacher.hidden = 64;
      c.teacher.clamp = 1.9;
      c.student.hidden = 256;
      c.student.nBlocks = 4;
      c.teacher.epochs = c.student.epochs = 24;
      // Like the official code (and `paper`): every train/good image is trained on.
      c.holdoutFraction = 0;
      return c;
  }
}
