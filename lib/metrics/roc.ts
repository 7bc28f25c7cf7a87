/**
 * ROC curve and exact AUROC, matching sklearn's roc_curve(drop_intermediate=False) and
 * roc_auc_score for binary labels.
 */
import { countsByThreshold, requireBothClasses } from "./binary_counts.ts";

export interface RocCurve {
  /** False-positive rate at each threshold, starting at 0. */
  fpr: Float64Array;
  /** True-positive rate at each threshold, starting at 0. */
  tpr: Float64Array;
  /** thresholds[0] = +Infinity (nothing predicted positive), then the distinct scores, decreasing. */
  thresholds: Float64Array;
}

/** One point per distinct score (predict positive when score >= threshold), preceded by (0, 0). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const counts = countsByThreshold(scores, labels);
  requireBothClasses(counts, "ROC curve");
  const m = counts.thresholds.length;
  const fpr = new Float64Array(m + 1);
  const tpr = new Float64Array(m + 1);
  const thresholds = new Float64Array(m + 1);
  thresholds[0] = Infinity;
  let truePositives = 0, falsePositives = 0;
  for (let k = 0; k < m; k++) {
    truePositives += counts.positives[k];
    falsePositives += counts.negatives[k];
    fpr[k + 1] = falsePositives / counts.totalNegatives;
    tpr[k + 1] = truePositives / counts.totalPositives;
    thresholds[k + 1] = counts.thresholds[k];
  }
  return { fpr, tpr, thresholds };
}

/**
 * Exact area under the ROC curve = P(score+ > score-) + 0.5 P(score+ = score-) (Mann-Whitney U
 * with average ranks for ties), which equals the trapezoid area under `rocCurve`.
 * The sum is kept in pair counts: each term is (integer or half-integer) x integer, so it is exact
 * in float64 up to ~2^53 pairs; only the final division rounds.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const counts = countsByThreshold(scores, labels);
  requireBothClasses(counts, "AUROC");
  let positivesAbove = 0; // positives with a strictly higher score than the current group
  let winningPairs = 0; // (positive, negative) pairs ordered correctly, ties counted as 1/2
  for (let k = 0; k < counts.thresholds.length; k++) {
    const pos = counts.positives[k], neg = counts.negatives[k];
    winningPairs += neg * (positivesAbove + pos / 2);
    positivesAbove += pos;
  }
  return winningPairs / (counts.totalPositives * counts.totalNegatives);
}
