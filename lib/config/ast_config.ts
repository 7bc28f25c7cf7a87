/**
 * The typed config of one AST run: everything that determines what a run computes (model sizes,
 * epochs, image features, masks, scoring, seed). One object per experiment; presets in
 * presets.ts, changes as patches (patch.ts), the effective config of a run from resolve.ts.
 */
import { parseThresholdRule } from "../metrics/threshold.ts";
import { MODES, type Mode, type PresetName } from "../types.ts";

/** Adam with PyTorch semantics (lib/train/adam.ts); weight decay is coupled L2, not AdamW. */
export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** How a flow's channel permutations are chosen (lib/models/teacher_flow.ts). */
export type FlowPermutations = "reference" | "seeded";
export const FLOW_PERMUTATIONS: readonly FlowPermutations[] = ["reference", "seeded"];

/**
 * The convolutions' input precision (issue 17): "bf16" runs the oneDNN convolution kernels on
 * bfloat16 inputs (fp32 accumulation); everything else stays fp32. Absent means fp32.
 */
export type Precision = "fp32" | "bf16";
export const PRECISIONS: readonly Precision[] = ["fp32", "bf16"];

export interface AstConfig {
  preset: PresetName;
  mode: Mode;
  seed: number;
  /** side of the feature map (24 at the paper's 768 input) */
  mapLen: number;
  /** image feature extractor for rgb/combi (lib/features/backbones.ts); "raw-patch" = raw-pixel patch embedding */
  backbone: string;
  /** the backbone's layer the features come from; null = its registry default */
  layer: string | null;
  /** the backbone's weights file or folder; null = looked up under the weights root ($AST_WEIGHTS_DIR) */
  weights: string | null;
  /**
   * A preset's backbone choice that may fall back to the raw-pixel patch embedding (with a note)
   * when its weights are missing. False for `paper` and whenever the backbone, layer or weights
   * were chosen: a chosen backbone is never substituted.
   */
  backboneFallback: boolean;
  posEncDim: number;
  /** use the positional encoding (Table 7 ablation) */
  posEnc: boolean;
  /** foreground mask in the losses (3D-AD depth/combi only) */
  trainMask: boolean;
  /** foreground mask in the evaluation (3D-AD depth/combi only) */
  evalMask: boolean;
  teacher: {
    hidden: number;
    nBlocks: number;
    kernelSizes: number[];
    clamp: number;
    epochs: number;
    /**
     * The flow's fixed channel permutations. "reference": block k's is numpy's legacy
     * `np.random.seed(k); np.random.permutation(C)`, the same for every run, exactly as the official
     * code (and the conformance fixture); "seeded": drawn from the run's seed (runs before the
     * calibration in tools/calibration/README.md did this), which adds seed-to-seed variance the
     * reference does not have. A symmetric (flow) student uses the same setting.
     */
    permutations: FlowPermutations;
  };
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
  /**
   * The convolutions' precision (lib/backend/precision.ts). Absent = fp32: a resolved config holds
   * the key only for "bf16" (applyPatch drops "fp32"), so fp32 configs keep the JSON, and with it
   * the grid's run ids and config.json's checksum, they had before the option existed.
   */
  precision?: Precision;
}

/** Seeds are 32-bit: the seeded generators (lib/util/random.ts) take `seed >>> 0`, larger ones would alias. */
export const MAX_SEED = 2 ** 32 - 1;
/** More epochs than any experiment uses: a larger number is a typo. */
export const MAX_EPOCHS = 100_000;

/** Fields that may hold null or a string. */
export const NULLABLE_FIELDS: ReadonlySet<string> = new Set(["layer", "weights"]);

/**
 * Optional top-level fields, absent at their default (so that the configs of earlier runs keep
 * their JSON): the default value a patch may give to mean "absent", and the type of the others.
 */
export const OPTIONAL_FIELDS: ReadonlyMap<string, { absentAs: unknown; kind: "string" }> = new Map([
  ["precision", { absentAs: "fp32", kind: "string" as const }],
]);

/** The precision a config asks for ("fp32" when absent). */
export function configPrecision(c: Pick<AstConfig, "precision">): Precision {
  return c.precision ?? "fp32";
}

/** Config fields older run folders lack, with the value they meant. */
export function withDefaults(c: AstConfig): AstConfig {
  return {
    ...c,
    layer: c.layer ?? null,
    weights: c.weights ?? null,
    backboneFallback: c.backboneFallback ?? false,
    // Runs recorded before the option existed drew their permutations from the seed.
    teacher: { ...c.teacher, permutations: c.teacher.permutations ?? "seeded" },
  };
}

/** Catch impossible settings before any work starts. */
export function validateConfig(c: AstConfig): void {
  const bad = (msg: string) => {
    throw new Error(`invalid config: ${msg}`);
  };
  if (!MODES.includes(c.mode)) bad(`mode must be ${MODES.join(", ")}, got '${c.mode}'`);
  const posInt = (v: number, name: string, min = 1, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < min || v > max) bad(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`}, got ${v}`);
  };
  posInt(c.seed, "seed", 0, MAX_SEED);
  posInt(c.mapLen, "mapLen");
  posInt(c.batchSize, "batchSize");
  posInt(c.teacher.hidden, "teacher.hidden");
  posInt(c.teacher.nBlocks, "teacher.nBlocks");
  posInt(c.teacher.epochs, "teacher.epochs", 0, MAX_EPOCHS);
  posInt(c.student.hidden, "student.hidden");
  posInt(c.student.nBlocks, "student.nBlocks", c.student.kind === "flow" ? 1 : 0);
  posInt(c.student.epochs, "student.epochs", 0, MAX_EPOCHS);
  const kernels = c.teacher.kernelSizes;
  if (!Array.isArray(kernels) || !kernels.length || kernels.some((k) => !Number.isInteger(k) || k < 1 || k % 2 === 0)) {
    bad(`teacher.kernelSizes must be a non-empty array of odd integers >= 1 (the map keeps its size), got ${JSON.stringify(kernels)}`);
  }
  posInt(c.checkpointEvery, "checkpointEvery");
  if (c.posEncDim % 4 !== 0) bad(`posEncDim must be a multiple of 4, got ${c.posEncDim}`);
  if (!(c.teacher.clamp > 0)) bad(`teacher.clamp must be > 0`);
  if (!FLOW_PERMUTATIONS.includes(c.teacher.permutations)) bad(`teacher.permutations must be ${FLOW_PERMUTATIONS.join(" or ")}, got '${c.teacher.permutations}'`);
  if (!["asymmetric", "flow"].includes(c.student.kind)) bad(`student.kind must be asymmetric or flow`);
  if (!["student", "teacher-nll"].includes(c.scoring)) bad(`scoring must be student or teacher-nll`);
  if (!(c.adam.lr > 0)) bad(`adam.lr must be > 0`);
  if (!(c.holdoutFraction >= 0 && c.holdoutFraction < 1)) bad(`holdoutFraction must be in [0, 1), got ${c.holdoutFraction}`);
  if (c.precision !== undefined && !PRECISIONS.includes(c.precision)) {
    bad(`precision must be ${PRECISIONS.join(" or ")}, got ${JSON.stringify(c.precision)}`);
  }
  try {
    parseThresholdRule(c.threshold);
  } catch (e) {
    bad((e as Error).message);
  }
}

/**
 * What determines a trained teacher: the config without the student, the scoring and the
 * evaluation-only settings. Two runs with equal keys (and the same data and features) train the
 * same teacher bit for bit (its initialisation and batch order derive from the seed alone), so
 * the student variants of one seed can share it (lib/experiment/grid.ts).
 */
export function teacherConfigKey(c: AstConfig): string {
  const { student: _s, scoring: _sc, evalMask: _e, threshold: _t, checkpointEvery: _c, ...teacherSide } = withDefaults(c);
  return JSON.stringify(teacherSide);
}
