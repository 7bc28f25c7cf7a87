/**
 * Paired AUROC differences between two scorings of the same test images (a variant vs AST)
 * over several seeds, with a two-way percentile bootstrap: each replicate redraws the test
 * images (stratified: normals and anomalies each to their counts, the SAME draw for both
 * scorings and every seed, because the test set is shared) and, independently, the seeds (with
 * replacement). The replicate's statistic is the mean over the drawn seeds of
 * AUROC(variant) - AUROC(reference) on the drawn images. So the interval covers both sources
 * of doubt at this scale: which test images we happened to have, and which seeds.
 */
import { auroc } from "./roc.ts";
import { argsortDescending } from "./sort.ts";
import { checkPaired } from "./binary_counts.ts";
import { isPositiveLabel } from "./labels.ts";
import { percentileInterval } from "./bootstrap.ts";
import { mulberry32 } from "../util/random.ts";
import { stratifiedImageWeights, weightedAurocSorted } from "./weighted_auroc.ts";
import { sampleStd } from "./sample_std.ts";

/** One seed's scores of the same test images (same order) under the reference and the variant. */
export interface PairedSeed {
  seed: number;
  reference: ArrayLike<number>;
  variant: ArrayLike<number>;
}

export interface PairedDifference {
  /** mean over seeds of AUROC(variant) - AUROC(reference) on all test images */
  estimate: number;
  lo: number;
  hi: number;
  /** per seed, AUROC(variant) - AUROC(reference) */
  perSeed: number[];
  nSeeds: number;
  nImages: number;
}

export interface PairedBootstrapOptions {
  resamples?: number;
  /** mulberry32 seed of the resampling (default 0) */
  seed?: number;
  /** two-sided level (default 0.05 -> 95 %) */
  alpha?: number;
}

/** The paired difference and its two-way bootstrap interval (see the module doc). */
export function pairedAurocDifference(
  labels: ArrayLike<number>,
  seeds: PairedSeed[],
  { resamples = 2000, seed = 0, alpha = 0.05 }: PairedBootstrapOptions = {},
): PairedDifference {
  if (seeds.length === 0) throw new Error("paired AUROC difference: no seeds");
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`resamples must be an integer >= 1, got ${resamples}`);
  const n = labels.length;
  const positive = new Uint8Array(n);
  for (let i = 0; i < n; i++) positive[i] = isPositiveLabel(labels[i], "labels", i) ? 1 : 0;
  const nPos = positive.reduce((a, b) => a + b, 0), nNeg = n - nPos;
  if (!nPos || !nNeg) throw new Error(`paired AUROC difference needs both classes (${nPos} anomalous, ${nNeg} normal test images)`);
  const series = seeds.map((s) => {
    checkPaired(s.reference, labels);
    checkPaired(s.variant, labels);
    return {
      reference: { scores: s.reference, order: argsortDescending(s.reference, `seed ${s.seed} reference scores`) },
      variant: { scores: s.variant, order: argsortDescending(s.variant, `seed ${s.seed} variant scores`) },
    };
  });
  const perSeed = seeds.map((s) => auroc(s.variant, labels) - auroc(s.reference, labels));
  const rng = mulberry32(seed);
  const weight = new Float64Array(n);
  const replicates = new Float64Array(resamples);
  const m = seeds.length;
  for (let r = 0; r < resamples; r++) {
    stratifiedImageWeights(positive, rng, weight);
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const s = series[Math.floor(rng() * m)];
      sum += weightedAurocSorted(s.variant.scores, s.variant.order, positive, weight) -
        weightedAurocSorted(s.reference.scores, s.reference.order, positive, weight);
    }
    replicates[r] = sum / m;
  }
  const estimate = perSeed.reduce((a, b) => a + b, 0) / m;
  return { estimate, ...percentileInterval(replicates, alpha), perSeed, nSeeds: m, nImages: n };
}

/** The seeds' sample standard deviation (n - 1, lib/metrics/sample_std.ts); 0 for a single value. */
export function seedStd(values: number[]): number {
  return sampleStd(values);
}
