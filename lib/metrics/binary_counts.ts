/**
 * Positive/negative counts per distinct score, highest score first. This is the one pass that
 * ROC, AUROC and F1 share: every metric that sweeps "predict positive when score >= t" over all
 * distinct t only needs how many positives and negatives sit exactly at each t.
 */
import { isPositiveLabel } from "./labels.ts";
import { argsortDescending } from "./sort.ts";

export interface CountsByThreshold {
  /** Distinct scores, strictly decreasing. */
  thresholds: Float64Array;
  /** Number of positive samples whose score equals thresholds[k]. */
  positives: Float64Array;
  /** Number of negative samples whose score equals thresholds[k]. */
  negatives: Float64Array;
  totalPositives: number;
  totalNegatives: number;
}

/** Throws unless scores and labels pair up one to one and are non-empty. */
export function checkPaired(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new Error(`scores and labels differ in length: ${scores.length} scores vs ${labels.length} labels`);
  }
  if (scores.length === 0) throw new Error("scores and labels are empty");
}

/** Groups samples by equal score (exact equality; -0 equals +0). Throws on NaN scores or labels. */
export function countsByThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): CountsByThreshold {
  checkPaired(scores, labels);
  const n = scores.length;
  const positive = new Uint8Array(n);
  let totalPositives = 0;
  for (let i = 0; i < n; i++) {
    if (isPositiveLabel(labels[i], "labels", i)) {
      positive[i] = 1;
      totalPositives++;
    }
  }
  const order = argsortDescending(scores, "scores");
  // Worst case every score is distinct; trimmed with subarray at the end.
  const thresholds = new Float64Array(n);
  const positives = new Float64Array(n);
  const negatives = new Float64Array(n);
  let groups = -1;
  let previous = NaN;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const s = scores[i];
    if (s !== previous) {
      groups++;
      thresholds[groups] = s;
      previous = s;
    }
    if (positive[i]) positives[groups]++;
    else negatives[groups]++;
  }
  const distinct = groups + 1;
  return {
    thresholds: thresholds.subarray(0, distinct),
    positives: positives.subarray(0, distinct),
    negatives: negatives.subarray(0, distinct),
    totalPositives,
    totalNegatives: n - totalPositives,
  };
}

/** Throws a message naming the missing class when ROC-type metrics are undefined. */
export function requireBothClasses(counts: CountsByThreshold, metric: string): void {
  if (counts.totalPositives === 0) {
    throw new Error(`${metric} is undefined: only one class present (all ${counts.totalNegatives} labels are negative/normal)`);
  }
  if (counts.totalNegatives === 0) {
    throw new Error(`${metric} is undefined: only one class present (all ${counts.totalPositives} labels are positive/anomalous)`);
  }
}
