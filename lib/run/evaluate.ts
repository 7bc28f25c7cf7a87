/**
 * Stage 6, evaluate: test images scored by the trained model (anomaly maps, image max and mean
 * scores), the paper's metrics against the ground truth, the teacher's own NLL as a second
 * detector, the held-apart normals' scores and the decision threshold chosen from them.
 */
import type { AstConfig } from "../config/ast_config.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { hasDefectMasks } from "../data/open.ts";
import { computeMetrics, type Metrics } from "../metrics/run_metrics.ts";
import { chooseThreshold, evaluateThreshold, parseThresholdRule, type Threshold, type ThresholdReport } from "../metrics/threshold.ts";
import type { AstModel, ImageResults, ScoringInput } from "../models/ast.ts";
import { mapOutSize } from "../models/scoring.ts";
import type { Sample } from "../types.ts";
import { type FeatureSet, groundTruth } from "./inputs.ts";
import { EVAL_GT_THRESHOLD } from "../preprocess/mask.ts";
import type { RunFeatures } from "./features.ts";

export interface Evaluation {
  /** the test images, in score order */
  samples: Sample[];
  outSize: number;
  results: ImageResults;
  metrics: Metrics;
  /** the teacher's NLL as the score (runs with a student), on the same images */
  teacherScores: ImageResults | null;
  teacherNll: Metrics | null;
  validationScores: ImageResults | null;
  threshold: Threshold | null;
  thresholdReport: ThresholdReport | null;
  /** teacher + student scoring time per test image, features excluded */
  inferenceMs: number;
}

/** A feature set as scoring input under a run's config (the mask only where evaluation uses it). */
export function scoringInput(f: FeatureSet, cfg: Pick<AstConfig, "evalMask" | "mapLen">): ScoringInput {
  return {
    x: f.x,
    n: f.files.length,
    side: f.side,
    channels: f.channels,
    masks: cfg.evalMask ? f.masks : null,
    outSize: mapOutSize(cfg.mapLen),
  };
}

export async function evaluateRun(model: AstModel, features: RunFeatures, dataset: MvtecDataset, cfg: AstConfig): Promise<Evaluation> {
  const samples = dataset.test;
  const outSize = mapOutSize(cfg.mapLen);
  const testInput = scoringInput(features.test, cfg);
  const inferStart = performance.now();
  const results = model.score(testInput, cfg.batchSize);
  const inferenceMs = (performance.now() - inferStart) / Math.max(1, samples.length);
  const labels = samples.map((s) => s.label);
  const types = samples.map((s) => s.defectType);
  const gt = hasDefectMasks(dataset) && (dataset.layout === "mvtecad" || samples.some((s) => s.maskPath))
    ? await groundTruth(samples.map((s) => s.maskPath), outSize, EVAL_GT_THRESHOLD, samples.map((s) => s.rgbPath))
    : null;
  const metrics = computeMetrics(results, labels, types, gt, outSize);
  const validationScores = features.validation ? model.score(scoringInput(features.validation, cfg), cfg.batchSize) : null;
  const threshold = validationScores ? chooseThreshold(validationScores.scoreMax, parseThresholdRule(cfg.threshold)) : null;
  const thresholdReport = threshold ? evaluateThreshold(results.scoreMax, labels, threshold.value) : null;
  // The teacher alone is a detector too (its NLL); recording it in every run gives the
  // paper's "teacher" rows without training the same teacher again.
  const teacherScores = model.student ? model.score(testInput, cfg.batchSize, true) : null;
  const teacherNll = teacherScores ? computeMetrics(teacherScores, labels, types, gt, outSize) : null;
  return { samples, outSize, results, metrics, teacherScores, teacherNll, validationScores, threshold, thresholdReport, inferenceMs };
}
