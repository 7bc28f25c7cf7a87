/**
 * A decision threshold on the image score, chosen from held-apart normal images only (never from
 * test): either a quantile of their scores or a target false-positive rate. With n normal images
 * the achievable false-positive rates are multiples of 1/n, so the record states both the rate
 * asked for and the rate it gives on those images, and how many images it rests on.
 * A score is flagged defective when it is strictly greater than the threshold.
 */
import { f1Max } from "./f1.ts";

export type ThresholdRule = { kind: "quantile"; q: number } | { kind: "fpr"; fpr: number };

export const DEFAULT_THRESHOLD_RULE: ThresholdRule = { kind: "fpr", fpr: 0.05 };

export interface Threshold {
  value: number;
  rule: ThresholdRule;
  /** normal images the threshold was chosen on */
  n_normal: number;
  /** fraction of those normal images above the threshold */
  fpr_on_normal: number;
  /** one sentence: what the threshold means */
  meaning: string;
}

export function parseThresholdRule(text: string): ThresholdRule {
  const m = /^(fpr|quantile|q)[:=]([0-9.]+)$/.exec(text.trim());
  const v = m ? Number(m[2]) : NaN;
  if (!m || !(v >= 0 && v <= 1)) throw new Error(`threshold rule must be fpr:F or quantile:Q with F, Q in [0, 1], got '${text}'`);
  return m[1] === "fpr" ? { kind: "fpr", fpr: v } : { kind: "quantile", q: v };
}

/** Linear-interpolated quantile (numpy's default) of sorted values. */
function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function chooseThreshold(normalScores: ArrayLike<number>, rule: ThresholdRule = DEFAULT_THRESHOLD_RULE): Threshold {
  const s = Float64Array.from(normalScores).sort();
  const n = s.length;
  if (n === 0) throw new Error("a threshold needs held-apart normal images (validation/good or a split of train/good); there are none");
  if (s.some((v) => !Number.isFinite(v))) throw new Error("normal scores contain NaN/Inf: cannot choose a threshold");
  let value: number;
  if (rule.kind === "quantile") {
    value = quantileSorted(s, rule.q);
  } else {
    // The smallest order statistic with at most fpr * n normal scores strictly above it.
    const allowed = Math.floor(rule.fpr * n + 1e-9);
    value = s[Math.max(0, n - 1 - allowed)];
  }
  const above = s.filter((v) => v > value).length;
  const fpr = above / n;
  const asked = rule.kind === "fpr" ? `target false-positive rate ${pct(rule.fpr)}` : `${pct(rule.q)} quantile of normal scores`;
  const meaning = `${asked}: images scoring above ${value.toPrecision(5)} are flagged; ` +
    `${above} of ${n} held-apart normal images (${pct(fpr)}) are above it` +
    (n < 20 ? ` (only ${n} normal images: the real false-positive rate is uncertain)` : "");
  return { value, rule, n_normal: n, fpr_on_normal: fpr, meaning };
}

export interface ThresholdReport {
  threshold: number;
  precision: number;
  recall: number;
  false_positive_rate: number;
  f1: number;
  /** the F1-maximising threshold on this labelled data (scores >= it flagged; for reference only: it is fitted on these labels) */
  f1_max: { threshold: number; f1: number; precision: number; recall: number };
}

/** How a threshold does on labelled images, and what the best possible (F1-max) one would be. */
export function evaluateThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ThresholdReport | null {
  const n = scores.length;
  let tp = 0, fp = 0, fn = 0, negatives = 0;
  for (let i = 0; i < n; i++) {
    const flagged = scores[i] > threshold, positive = labels[i] > 0;
    if (positive && flagged) tp++;
    else if (positive) fn++;
    else if (flagged) fp++;
    if (!positive) negatives++;
  }
  if (tp + fn === 0) return null;
  const best = f1Max(scores, labels);
  // Note: f1Max's threshold is a score value flagged inclusively (>= t).
  return {
    threshold,
    precision: tp + fp ? tp / (tp + fp) : 1,
    recall: tp / (tp + fn),
    false_positive_rate: negatives ? fp / negatives : 0,
    f1: (2 * tp) / (2 * tp + fp + fn),
    f1_max: { threshold: best.threshold, f1: best.f1, precision: best.precision, recall: best.recall },
  };
}

const pct = (v: number) => `${(100 * v).toFixed(v < 0.01 && v > 0 ? 2 : 1)}%`;
