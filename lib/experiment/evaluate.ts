/**
 * Scores test features with a trained teacher and student: per-image max and mean scores and
 * the upsampled anomaly maps, then the paper's metrics against the ground truth.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TeacherFlow } from "../models/teacher_flow.ts";
import type { StudentModel } from "../models/student_model.ts";
import { flowNllPerPixel, studentDistancePerPixel } from "../models/losses.ts";
import { imageScores } from "../models/scoring.ts";
import { auroc, aupro, f1Max } from "../metrics/index.ts";
import type { FeatureSet } from "../features/feature_set.ts";
import type { AstConfig } from "./config.ts";

export interface EvaluationInput {
  /** [N,H,W,C] */
  x: Float32Array;
  n: number;
  side: number;
  channels: number;
  /** [N,H,W] soft masks for evaluation, or null */
  masks: Float32Array | null;
  /** anomaly-map side (8 * side) */
  outSize: number;
}

/** Anomaly maps are upsampled to 8x the feature-map side (the paper's input / feature stride). */
export const mapOutSize = (mapLen: number) => mapLen * 8;

/** A feature set as scoring input under a run's config (the mask only where evaluation uses it). */
export function evaluationInput(f: FeatureSet, cfg: Pick<AstConfig, "evalMask" | "mapLen">): EvaluationInput {
  return {
    x: f.x,
    n: f.samples.length,
    side: f.side,
    channels: f.channels,
    masks: cfg.evalMask ? f.masks : null,
    outSize: mapOutSize(cfg.mapLen),
  };
}

export interface ImageResults {
  scoreMax: Float32Array;
  scoreMean: Float32Array;
  /** [N, outSize, outSize] */
  maps: Float32Array;
}

export function scoreImages(
  teacher: TeacherFlow,
  student: StudentModel | null,
  pe: tf.Tensor3D | null,
  data: EvaluationInput,
  batchSize = 8,
): ImageResults {
  const { n, side, channels, outSize } = data;
  const cells = side * side;
  const scoreMax = new Float32Array(n), scoreMean = new Float32Array(n);
  const maps = new Float32Array(n * outSize * outSize);
  for (let b = 0; b < n; b += batchSize) {
    const m = Math.min(batchSize, n - b);
    tf.tidy(() => {
      const x = tf.tensor4d(data.x.subarray(b * cells * channels, (b + m) * cells * channels), [m, side, side, channels]);
      const mask = data.masks ? tf.tensor4d(data.masks.subarray(b * cells, (b + m) * cells), [m, side, side, 1]) : null;
      const { z, logDet } = teacher.forward(x, pe);
      const dist = student
        ? studentDistancePerPixel(z, student.predict(x, pe, false).out, mask)
        : flowNllPerPixel(z, logDet, mask);
      const s = imageScores(dist, mask ? tf.squeeze(mask, [3]) as tf.Tensor3D : null, outSize);
      scoreMax.set(s.scoreMax.dataSync(), b);
      scoreMean.set(s.scoreMean.dataSync(), b);
      maps.set(s.anomalyMap.dataSync(), b * outSize * outSize);
    });
  }
  return { scoreMax, scoreMean, maps };
}

export interface Metrics {
  image_auroc_max: number | null;
  image_auroc_mean: number | null;
  pixel_auroc: number | null;
  aupro: number | null;
  f1_max: number | null;
  /** image AUROC (max scoring) of each defect type against the good images */
  per_defect_type: Record<string, number>;
}

/** Metrics; a metric that needs both classes (or defect masks) and lacks them is null. */
export function computeMetrics(
  results: ImageResults,
  labels: ArrayLike<number>,
  defectTypes: string[],
  gt: Float32Array | null,
  outSize: number,
): Metrics {
  const labelList = Array.from(labels);
  const hasBoth = labelList.some((l) => l > 0) && labelList.some((l) => l === 0);
  const perType: Record<string, number> = {};
  if (hasBoth) {
    for (const type of new Set(defectTypes.filter((_, i) => labels[i] > 0))) {
      const idx = defectTypes.map((_, i) => i).filter((i) => defectTypes[i] === type || labels[i] === 0);
      perType[type] = auroc(idx.map((i) => results.scoreMax[i]), idx.map((i) => labels[i]));
    }
  }
  let pixel: number | null = null, pro: number | null = null;
  if (gt && gt.some((v) => v > 0)) {
    pixel = auroc(results.maps, gt);
    const px = outSize * outSize;
    const maps = Array.from({ length: labels.length }, (_, i) => results.maps.subarray(i * px, (i + 1) * px));
    const masks = Array.from({ length: labels.length }, (_, i) => gt.subarray(i * px, (i + 1) * px));
    pro = aupro(maps, masks, outSize, outSize);
  }
  return {
    image_auroc_max: hasBoth ? auroc(results.scoreMax, labels) : null,
    image_auroc_mean: hasBoth ? auroc(results.scoreMean, labels) : null,
    pixel_auroc: pixel,
    aupro: pro,
    f1_max: hasBoth ? f1Max(results.scoreMax, labels).f1 : null,
    per_defect_type: perType,
  };
}
