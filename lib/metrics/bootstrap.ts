/**
 * Percentile-bootstrap confidence intervals over test images: how much an AUROC would move if the
 * test set were drawn again. Seeded (mulberry32), so a table is reproducible.
 */
import { auroc } from "./roc.ts";
import { argsortDescending } from "./sort.ts";
import { checkPaired } from "./binary_counts.ts";
import { isPositiveLabel } from "./labels.ts";
import { mulberry32 } from "../util/random.ts";

export interface BootstrapOptions {
  /** number of resamples (default 1000) */
  resamples?: number;
  /** mulberry32 seed (default 0) */
  seed?: number;
  /** two-sided level: the interval is [alpha/2, 1 - alpha/2] quantiles (default 0.05 -> 95 %) */
  alpha?: number;
}

export interface Interval {
  /** the statistic on the original data */
  estimate: number;
  lo: number;
  hi: number;
}

/**
 * AUROC of `resamples` stratified resamples: normals and anomalies are each drawn with
 * replacement to their original counts, so every resample has both classes (AUROC stays defined
 * and the class balance of the test set is kept).
 *
 * Why not call `auroc` per resample: its radix sort costs ~0.2 ms even for 100 scores. The
 * scores are sorted and grouped by equal value once; a resample is then only a count per group,
 * and its AUROC is the very sum `auroc` computes (Mann-Whitney with ties as 1/2, in pair counts),
 * so each replicate equals `auroc` on the materialised resample (checked by the tests).
 */
export function bootstrapAurocReplicates(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  { resamples = 1000, seed = 0 }: BootstrapOptions = {},
): Float64Array {
  checkPaired(scores, labels);
  checkResamples(resamples);
  const n = scores.length;
  const order = argsortDescending(scores, "scores");
  // group[i]: rank of image i's distinct score, 0 = highest.
  const group = new Int32Array(n);
  let groups = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0 && scores[order[k]] !== scores[order[k - 1]]) groups++;
    group[order[k]] = groups;
  }
  groups++;
  const posGroups: number[] = [], negGroups: number[] = [];
  for (let i = 0; i < n; i++) (isPositiveLabel(labels[i], "labels", i) ? posGroups : negGroups).push(group[i]);
  const nPos = posGroups.length, nNeg = negGroups.length;
  if (nPos === 0 || nNeg === 0) throw new Error(`bootstrap AUROC needs both classes (${nPos} anomalous, ${nNeg} normal)`);

  const rng = mulberry32(seed);
  const pos = new Float64Array(groups), neg = new Float64Array(groups);
  const out = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    pos.fill(0);
    neg.fill(0);
    for (let j = 0; j < nNeg; j++) neg[negGroups[Math.floor(rng() * nNeg)]]++;
    for (let j = 0; j < nPos; j++) pos[posGroups[Math.floor(rng() * nPos)]]++;
    let positivesAbove = 0, winningPairs = 0;
    for (let g = 0; g < groups; g++) {
      winningPairs += neg[g] * (positivesAbove + pos[g] / 2);
      positivesAbove += pos[g];
    }
    out[r] = winningPairs / (nPos * nNeg);
  }
  return out;
}

/** AUROC with a stratified percentile-bootstrap interval over the test images. */
export function bootstrapAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>, options: BootstrapOptions = {}): Interval {
  const replicates = bootstrapAurocReplicates(scores, labels, options);
  return { estimate: auroc(scores, labels), ...percentileInterval(replicates, options.alpha) };
}

/** Mean with a percentile-bootstrap interval (e.g. over seeds or classes); one value -> [v, v]. */
export function bootstrapMean(values: ArrayLike<number>, { resamples = 1000, seed = 0, alpha = 0.05 }: BootstrapOptions = {}): Interval {
  const n = values.length;
  if (n === 0) throw new Error("bootstrapMean: no values");
  checkResamples(resamples);
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw new Error(`bootstrapMean: value ${i} is ${values[i]}`);
  const rng = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += values[Math.floor(rng() * n)];
    means[r] = sum / n;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  return { estimate: sum / n, ...percentileInterval(means, alpha) };
}

/**
 * [alpha/2, 1 - alpha/2] quantiles of replicates, linearly interpolated between order statistics
 * (numpy's default "linear" method).
 */
export function percentileInterval(replicates: ArrayLike<number>, alpha = 0.05): { lo: number; hi: number } {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0, 1), got ${alpha}`);
  if (replicates.length === 0) throw new Error("percentileInterval: no replicates");
  const sorted = Float64Array.from(replicates).sort();
  return { lo: quantileSorted(sorted, alpha / 2), hi: quantileSorted(sorted, 1 - alpha / 2) };
}

function quantileSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const below = Math.floor(h), above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
}

function checkResamples(resamples: number): void {
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`resamples must be an integer >= 1, got ${resamples}`);
}
