/** Best F1 over all distinct thresholds (predict positive when score >= threshold). */
import { countsByThreshold } from "./binary_counts.ts";

export interface F1Max {
  f1: number;
  /** The score at which F1 is maximal; the highest such score when several thresholds tie. */
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * Exact with ties: samples with equal scores switch to positive together, so only the distinct
 * scores are candidate thresholds. Requires at least one positive label (F1 is 0/0 otherwise).
 */
export function f1Max(scores: ArrayLike<number>, labels: ArrayLike<number>): F1Max {
  const counts = countsByThreshold(scores, labels);
  if (counts.totalPositives === 0) {
    throw new Error(`F1 is undefined: only one class present (all ${counts.totalNegatives} labels are negative/normal)`);
  }
  const P = counts.totalPositives;
  let truePositives = 0, falsePositives = 0;
  let best: F1Max = { f1: -1, threshold: NaN, precision: NaN, recall: NaN };
  for (let k = 0; k < counts.thresholds.length; k++) {
    truePositives += counts.positives[k];
    falsePositives += counts.negatives[k];
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + P); always > 0 denominators here.
    const f1 = (2 * truePositives) / (truePositives + falsePositives + P);
    if (f1 > best.f1) {
      best = {
        f1,
        threshold: counts.thresholds[k],
        precision: truePositives / (truePositives + falsePositives),
        recall: truePositives / P,
      };
    }
  }
  return best;
}
