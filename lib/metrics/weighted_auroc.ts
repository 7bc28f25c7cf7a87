/**
 * AUROC of a bootstrap resample without materialising it: each test image counts as often as it
 * was drawn (its weight), and the stratified draw of those weights. Shared by the paired
 * ablation differences (paired_difference.ts) and the calibration against the official code
 * (tools/calibration/stats.ts), so both resample test images the same way.
 */
import { argsortDescending } from "./sort.ts";

/**
 * Stratified multiplicities: normals, then anomalies, each drawn with replacement to their own
 * count (one `rng` stream, in that order), so every resample keeps both classes and their balance.
 */
export function stratifiedImageWeights(labels: ArrayLike<number>, rng: () => number, out = new Float64Array(labels.length)): Float64Array {
  out.fill(0);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if ((labels[i] ? 1 : 0) === cls) idx.push(i);
    for (let k = 0; k < idx.length; k++) out[idx[Math.floor(rng() * idx.length)]]++;
  }
  return out;
}

/**
 * AUROC with per-image weights, from the scores' descending `order` (argsortDescending): pairs
 * counted with multiplicity, ties as 1/2, as `auroc` counts them on the materialised resample.
 */
export function weightedAurocSorted(scores: ArrayLike<number>, order: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number>): number {
  let positivesAbove = 0, negatives = 0, winning = 0;
  const n = order.length;
  for (let k = 0; k < n;) {
    // one group of tied scores
    let pos = 0, neg = 0, j = k;
    const v = scores[order[k]];
    while (j < n && scores[order[j]] === v) {
      const i = order[j++];
      if (labels[i]) pos += weights[i];
      else neg += weights[i];
    }
    winning += neg * (positivesAbove + pos / 2);
    positivesAbove += pos;
    negatives += neg;
    k = j;
  }
  if (!positivesAbove || !negatives) throw new Error(`weighted AUROC needs both classes (${positivesAbove} anomalous, ${negatives} normal)`);
  return winning / (positivesAbove * negatives);
}

/** AUROC with per-image weights (an image drawn k times counts k times). */
export function weightedAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number>): number {
  return weightedAurocSorted(scores, argsortDescending(scores), labels, weights);
}
