/**
 * Statistics of the calibration comparison (tools/calibration/compare.ts), kept pure for tests:
 * weighted AUROC (an image drawn k times counts k times), the pooled-pixel AUROC of image-weighted
 * resamples from per-image score histograms, and a two-level bootstrap of the difference of two
 * implementations' seed-mean AUROCs that resamples test images (the same draw for both,
 * stratified by label) and seeds (independently per implementation: seeds are not paired).
 */
import { mulberry32 } from "../../lib/util/random.ts";
import { percentileInterval } from "../../lib/metrics/bootstrap.ts";
import { stratifiedImageWeights } from "../../lib/metrics/weighted_auroc.ts";

// The weighted AUROC and the stratified draw are the library's (the ablation intervals use the same).
export { stratifiedImageWeights, weightedAuroc } from "../../lib/metrics/weighted_auroc.ts";

/**
 * Per-image histograms of one run's pixel scores over `bins` quantile bins of that run's pooled
 * scores, split by ground truth: the pooled-pixel AUROC of any image-weighted resample is then a
 * sum over bins (pixels in one bin count as ties: an approximation at the 1/bins level, used for
 * intervals only; point estimates use the exact AUROC).
 */
export interface PixelHistograms {
  bins: number;
  images: number;
  /** [images * bins] defect pixels per bin */
  pos: Float64Array;
  /** [images * bins] normal pixels per bin */
  neg: Float64Array;
}

export function pixelHistograms(maps: Float32Array, gt: Float32Array, images: number, bins = 1000): PixelHistograms {
  if (maps.length !== gt.length || maps.length % images) throw new Error(`maps (${maps.length}) and ground truth (${gt.length}) do not split into ${images} images`);
  const per = maps.length / images;
  const sorted = Float32Array.from(maps).sort();
  const edges = new Float32Array(bins - 1);
  for (let b = 1; b < bins; b++) edges[b - 1] = sorted[Math.floor((b * sorted.length) / bins)];
  const pos = new Float64Array(images * bins), neg = new Float64Array(images * bins);
  for (let k = 0; k < maps.length; k++) {
    // first edge > value: bins are [edge_{b-1}, edge_b)
    let lo = 0, hi = edges.length;
    const v = maps[k];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    const idx = Math.floor(k / per) * bins + lo;
    if (gt[k] > 0) pos[idx]++;
    else neg[idx]++;
  }
  return { bins, images, pos, neg };
}

/** Pooled-pixel AUROC of an image-weighted resample, from the histograms (bin = tie). */
export function histogramAuroc(h: PixelHistograms, weights: ArrayLike<number>): number {
  const P = new Float64Array(h.bins), N = new Float64Array(h.bins);
  for (let i = 0; i < h.images; i++) {
    const w = weights[i];
    if (!w) continue;
    const o = i * h.bins;
    for (let b = 0; b < h.bins; b++) {
      P[b] += w * h.pos[o + b];
      N[b] += w * h.neg[o + b];
    }
  }
  let negBelow = 0, win = 0, tp = 0, tn = 0;
  for (let b = 0; b < h.bins; b++) {
    win += P[b] * (negBelow + N[b] / 2);
    negBelow += N[b];
    tp += P[b];
    tn += N[b];
  }
  return win / (tp * tn);
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  /** the 95 % interval lies entirely above or below 0 */
  excludes_zero: boolean;
}

export interface DifferenceResult {
  /** official mean - ours mean, with the interval from resampling images and seeds */
  difference: Interval;
  /** images fixed, seeds resampled: the seed-to-seed part alone */
  difference_seeds_only: Interval;
  /** seeds fixed, images resampled */
  difference_images_only: Interval;
  /** each implementation's seed mean, intervals from images + seeds */
  a_mean: Interval;
  b_mean: Interval;
}

function interval(estimate: number, reps: Float64Array, alpha: number, zeroTest = true): Interval {
  const { lo, hi } = percentileInterval(reps, alpha);
  return { estimate, lo, hi, excludes_zero: zeroTest && (lo > 0 || hi < 0) };
}

/**
 * Two-level bootstrap of mean_a - mean_b, where `metricA(run, weights)` is run `run`'s AUROC on
 * the image resample `weights` (all ones = the test set as it is). Each replicate draws one
 * stratified image resample (shared) and, independently per implementation, `runs` seeds with
 * replacement.
 */
export function bootstrapDifference(
  labels: ArrayLike<number>,
  runsA: number,
  runsB: number,
  metricA: (run: number, weights: Float64Array) => number,
  metricB: (run: number, weights: Float64Array) => number,
  { resamples = 2000, seed = 0, alpha = 0.05 } = {},
): DifferenceResult {
  const rng = mulberry32(seed);
  const ones = new Float64Array(labels.length).fill(1);
  const baseA = Array.from({ length: runsA }, (_, r) => metricA(r, ones));
  const baseB = Array.from({ length: runsB }, (_, r) => metricB(r, ones));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const drawMean = (v: number[]) => {
    let s = 0;
    for (let k = 0; k < v.length; k++) s += v[Math.floor(rng() * v.length)];
    return s / v.length;
  };
  const full = new Float64Array(resamples), seedsOnly = new Float64Array(resamples), imagesOnly = new Float64Array(resamples);
  const aRep = new Float64Array(resamples), bRep = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const w = stratifiedImageWeights(labels, rng);
    const a = Array.from({ length: runsA }, (_, k) => metricA(k, w));
    const b = Array.from({ length: runsB }, (_, k) => metricB(k, w));
    aRep[r] = drawMean(a);
    bRep[r] = drawMean(b);
    full[r] = aRep[r] - bRep[r];
    imagesOnly[r] = mean(a) - mean(b);
    seedsOnly[r] = drawMean(baseA) - drawMean(baseB);
  }
  const est = mean(baseA) - mean(baseB);
  return {
    difference: interval(est, full, alpha),
    difference_seeds_only: interval(est, seedsOnly, alpha),
    difference_images_only: interval(est, imagesOnly, alpha),
    a_mean: interval(mean(baseA), aRep, alpha, false),
    b_mean: interval(mean(baseB), bRep, alpha, false),
  };
}

/** Mean and sample standard deviation (n - 1). */
export function meanSd(v: number[]): { mean: number; sd: number; n: number } {
  const n = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}
