/**
 * One typed config object per experiment. Presets give the paper's hyperparameters per dataset
 * (`paper`), a scale that fits a 2-core CPU (`cpu`), a minutes-long one (`demo`) and the exact
 * calibration configuration of docs/REFERENCE_RESULTS.md (`reference-small`).
 */
import type { AdamConfig } from "../train/adam.ts";
import { parseThresholdRule } from "./threshold.ts";

export type Mode = "depth" | "rgb" | "combi";
export type PresetName = "demo" | "cpu" | "paper" | "reference-small";
export type DatasetKind = "mvtec3d" | "mvtecad";

export interface AstConfig {
  preset: PresetName;
  mode: Mode;
  seed: number;
  /** side of the feature map (24 at the paper's 768 input) */
  mapLen: number;
  /** image feature extractor for rgb/combi; "raw-patch" = raw-pixel patch embedding (no network) */
  backbone: string;
  posEncDim: number;
  /** use the positional encoding (Table 7 ablation) */
  posEnc: boolean;
  /** foreground mask in the losses (3D-AD depth/combi only) */
  trainMask: boolean;
  /** foreground mask in the evaluation (3D-AD depth/combi only) */
  evalMask: boolean;
  teacher: { hidden: number; nBlocks: number; kernelSizes: number[]; clamp: number; epochs: number };
  student: {
    /** "asymmetric" = the paper's CNN; "flow" = symmetric NF student (Table 5) */
    kind: "asymmetric" | "flow";
    hidden: number;
    nBlocks: number;
    leakySlope: number;
    epochs: number;
  };
  /** "student" = student-teacher distance; "teacher-nll" = the teacher's NLL (Table 5 row) */
  scoring: "student" | "teacher-nll";
  batchSize: number;
  adam: AdamConfig;
  preprocess: { fills: number; bgThresh: number; dilateSize: number };
  /** write a resumable checkpoint every N epochs */
  checkpointEvery: number;
  /**
   * Fraction of train/good held apart as normal images for score statistics and the decision
   * threshold when the dataset has no validation split (MVTec AD); 0 trains on all of them.
   */
  holdoutFraction: number;
  /** how the decision threshold is chosen from held-apart normal scores: "fpr:F" or "quantile:Q" */
  threshold: string;
}

const ADAM: AdamConfig = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 };

function base(mode: Mode, dataset: DatasetKind): AstConfig {
  const useMask = dataset === "mvtec3d" && mode !== "rgb";
  return {
    preset: "paper",
    mode,
    seed: 0,
    mapLen: 24,
    backbone: "efficientnet-b5",
    posEncDim: 32,
    posEnc: true,
    trainMask: useMask,
    evalMask: useMask,
    // Paper: alpha 1.9 / hidden 64 / 72 epochs on MVTec 3D-AD; alpha 3 / hidden 1024 / 240 on MVTec AD.
    teacher: dataset === "mvtec3d"
      ? { hidden: 64, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9, epochs: 72 }
      : { hidden: 1024, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 3, epochs: 240 },
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

/** The preset's config for a dataset kind and mode (before --set overrides). */
export function presetConfig(preset: PresetName, mode: Mode, dataset: DatasetKind): AstConfig {
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
      c.teacher.hidden = 64;
      c.student.hidden = 256;
      c.teacher.epochs = c.student.epochs = dataset === "mvtec3d" ? 72 : 120;
      return c;
    case "demo":
      // Minutes on 2 cores: a 16x16 map (128x128 depth), a narrow, shallow student.
      c.backbone = "mobilenet_v2";
      c.mapLen = 16;
      c.teacher.hidden = 64;
      c.student.hidden = 128;
      c.student.nBlocks = 2;
      c.teacher.epochs = c.student.epochs = 20;
      return c;
    case "reference-small":
      // docs/REFERENCE_RESULTS.md: teacher hidden 64, student hidden 256 x 4 blocks, 24 epochs each.
      c.backbone = "mobilenet_v2";
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

export const PRESETS: PresetName[] = ["demo", "cpu", "paper", "reference-small"];

/**
 * Apply `key=value` overrides to a config (dotted paths, e.g. `student.hidden=256`). Values are
 * parsed as JSON where possible and must keep the type of the field they replace.
 */
export function applyOverrides(config: AstConfig, sets: string[]): AstConfig {
  const c = structuredClone(config);
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new Error(`--set expects key=value, got '${s}'`);
    const path = s.slice(0, eq).split(".");
    const raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    // deno-lint-ignore no-explicit-any
    let obj: any = c;
    for (const k of path.slice(0, -1)) {
      if (typeof obj[k] !== "object" || obj[k] === null) throw new Error(`--set ${s}: unknown config key '${path.join(".")}'`);
      obj = obj[k];
    }
    const last = path[path.length - 1];
    if (!(last in obj)) throw new Error(`--set ${s}: unknown config key '${path.join(".")}'`);
    const want = Array.isArray(obj[last]) ? "array" : typeof obj[last];
    const got = Array.isArray(value) ? "array" : typeof value;
    if (want !== got) throw new Error(`--set ${s}: '${path.join(".")}' must be ${want}, got ${got}`);
    obj[last] = value;
  }
  validateConfig(c);
  return c;
}

/** Catch impossible settings before any work starts. */
export function validateConfig(c: AstConfig): void {
  const bad = (msg: string) => {
    throw new Error(`invalid config: ${msg}`);
  };
  if (!["depth", "rgb", "combi"].includes(c.mode)) bad(`mode must be depth, rgb or combi, got '${c.mode}'`);
  const posInt = (v: number, name: string, min = 1) => {
    if (!Number.isInteger(v) || v < min) bad(`${name} must be an integer >= ${min}, got ${v}`);
  };
  posInt(c.mapLen, "mapLen");
  posInt(c.batchSize, "batchSize");
  posInt(c.teacher.hidden, "teacher.hidden");
  posInt(c.teacher.nBlocks, "teacher.nBlocks");
  posInt(c.teacher.epochs, "teacher.epochs", 0);
  posInt(c.student.hidden, "student.hidden");
  posInt(c.student.nBlocks, "student.nBlocks", c.student.kind === "flow" ? 1 : 0);
  posInt(c.student.epochs, "student.epochs", 0);
  posInt(c.checkpointEvery, "checkpointEvery");
  if (c.posEncDim % 4 !== 0) bad(`posEncDim must be a multiple of 4, got ${c.posEncDim}`);
  if (!(c.teacher.clamp > 0)) bad(`teacher.clamp must be > 0`);
  if (!["asymmetric", "flow"].includes(c.student.kind)) bad(`student.kind must be asymmetric or flow`);
  if (!["student", "teacher-nll"].includes(c.scoring)) bad(`scoring must be student or teacher-nll`);
  if (!(c.adam.lr > 0)) bad(`adam.lr must be > 0`);
  if (!(c.holdoutFraction >= 0 && c.holdoutFraction < 1)) bad(`holdoutFraction must be in [0, 1), got ${c.holdoutFraction}`);
  try {
    parseThresholdRule(c.threshold);
  } catch (e) {
    bad((e as Error).message);
  }
}

/** What an experiment file in experiments/ exports: any part of the config (top-level keys merged). */
export type ExperimentConfig = Partial<AstConfig>;

/** A change to a config: top-level keys, nested objects merged one level (teacher, student, adam, ...). */
export type ConfigPatch = {
  [K in keyof AstConfig]?: AstConfig[K] extends unknown[] ? AstConfig[K]
    : AstConfig[K] extends object ? Partial<AstConfig[K]>
    : AstConfig[K];
};
