/**
 * Independent, deliberately naive reference computations for the metric tests. Nothing here
 * imports lib/metrics: each quantity is computed straight from its definition.
 */
import { mulberry32 } from "../../lib/util/random.ts";

/** Deterministic PRNG so failures reproduce (the generator is not under test here). */
export const seededRandom = mulberry32;

/** P(s+ > s-) + 0.5 P(s+ = s-) over all (positive, negative) pairs. O(P * N). */
export function pairCountAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!(labels[i] > 0)) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] > 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** Distinct values, highest first (via a plain JS array sort). */
export function distinctDescending(values: ArrayLike<number>): number[] {
  return [...new Set(Array.from(values))].sort((a, b) => b - a);
}

/** Max over distinct thresholds of F1 = 2PR/(P+R), predicting positive when score >= t. */
export function bruteForceF1(scores: ArrayLike<number>, labels: ArrayLike<number>): { f1: number; threshold: number }[] {
  const out: { f1: number; threshold: number }[] = [];
  for (const t of distinctDescending(scores)) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < scores.length; i++) {
      const predicted = scores[i] >= t, actual = labels[i] > 0;
      if (predicted && actual) tp++;
      else if (predicted) fp++;
      else if (actual) fn++;
    }
    const precision = tp / (tp + fp), recall = tp / (tp + fn);
    out.push({ f1: tp === 0 ? 0 : (2 * precision * recall) / (precision + recall), threshold: t });
  }
  return out;
}

/** Regions of one mask as lists of pixel indices, by a recursive-free 8-neighbour flood fill. */
export function floodFillRegions(mask: ArrayLike<number>, width: number, height: number): number[][] {
  const seen = new Array<boolean>(width * height).fill(false);
  const regions: number[][] = [];
  for (let y0 = 0; y0 < height; y0++) {
    for (let x0 = 0; x0 < width; x0++) {
      if (seen[y0 * width + x0] || !(mask[y0 * width + x0] > 0)) continue;
      const region: number[] = [];
      const queue: [number, number][] = [[x0, y0]];
      seen[y0 * width + x0] = true;
      while (queue.length > 0) {
        const [x, y] = queue.shift()!;
        region.push(y * width + x);
        for (const [dx, dy] of [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]]) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (!seen[q] && mask[q] > 0) {
            seen[q] = true;
            queue.push([nx, ny]);
          }
        }
      }
      regions.push(region);
    }
  }
  return regions;
}

/**
 * PRO curve from the definition: for every distinct threshold t (highest first) threshold every
 * map, then PRO = mean over regions of overlap fraction, FPR = predicted-positive normal pixels /
 * all normal pixels. Prepends (0, 0).
 */
export function bruteForceProCurve(
  maps: ArrayLike<number>[],
  masks: ArrayLike<number>[],
  width: number,
  height: number,
): { fpr: number[]; pro: number[] } {
  const regionsPerImage = masks.map((m) => floodFillRegions(m, width, height));
  const allScores: number[] = [];
  for (const map of maps) allScores.push(...Array.from(map));
  const fpr = [0], pro = [0];
  for (const t of distinctDescending(allScores)) {
    let overlapSum = 0, regionCount = 0, falsePositives = 0, normals = 0;
    for (let img = 0; img < maps.length; img++) {
      const predicted = Array.from(maps[img], (s) => s >= t);
      for (const region of regionsPerImage[img]) {
        overlapSum += region.filter((p) => predicted[p]).length / region.length;
        regionCount++;
      }
      for (let p = 0; p < width * height; p++) {
        if (masks[img][p] > 0) continue;
        normals++;
        if (predicted[p]) falsePositives++;
      }
    }
    fpr.push(falsePositives / normals);
    pro.push(overlapSum / regionCount);
  }
  return { fpr, pro };
}

/**
 * Integral of the piecewise-linear curve through (x, y) over [0, limit], segment by segment:
 * each segment is clipped to the limit with y linearly interpolated at the clip point.
 */
export function integrateUpTo(x: number[], y: number[], limit: number): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const left = x[i - 1];
    if (left >= limit) break;
    const right = Math.min(x[i], limit);
    const yRight = x[i] === left ? y[i] : y[i - 1] + (y[i] - y[i - 1]) * (right - left) / (x[i] - left);
    area += (right - left) * (y[i - 1] + yRight) / 2;
  }
  return area;
}

/*
 * References for inputs too large for the pair-count / per-threshold ones above (millions of
 * pixels). Still straight from the definitions, and independent of lib/metrics: classes are
 * sorted with the built-in typed-array sort (lib/metrics uses its own radix argsort).
 */

function sortedByClass(scores: ArrayLike<number>, labels: ArrayLike<number>): { pos: Float64Array; neg: Float64Array } {
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (labels[i] > 0 ? pos : neg).push(scores[i]);
  return { pos: Float64Array.from(pos).sort(), neg: Float64Array.from(neg).sort() };
}

/** P(s+ > s-) + 0.5 P(s+ = s-): for each positive, the negatives below it and equal to it (two pointers). */
export function sortedAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { pos, neg } = sortedByClass(scores, labels);
  let below = 0, upTo = 0, wins = 0;
  for (const s of pos) {
    while (below < neg.length && neg[below] < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < neg.length && neg[upTo] === s) upTo++;
    wins += below + 0.5 * (upTo - below);
  }
  return wins / (pos.length * neg.length);
}

/**
 * Max over distinct thresholds t of F1 = 2PR/(P+R), positive when score >= t; the highest t
 * reaching it. Thresholds are the distinct scores from the highest down (the larger of the two
 * classes' next values), counting each class at or above t.
 */
export function sortedF1Max(scores: ArrayLike<number>, labels: ArrayLike<number>): { f1: number; threshold: number } {
  const { pos, neg } = sortedByClass(scores, labels);
  let p = pos.length, n = neg.length; // index of the first element >= t in each class
  let best = { f1: -1, threshold: NaN };
  while (p > 0 || n > 0) {
    const t = Math.max(p > 0 ? pos[p - 1] : -Infinity, n > 0 ? neg[n - 1] : -Infinity);
    while (p > 0 && pos[p - 1] >= t) p--;
    while (n > 0 && neg[n - 1] >= t) n--;
    const tp = pos.length - p, fp = neg.length - n;
    const precision = tp / (tp + fp), recall = tp / pos.length;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > best.f1) best = { f1, threshold: t };
  }
  return best;
}

/**
 * The PRO curve of bruteForceProCurve for maps with few distinct values (e.g. quantised), from
 * per-region and normal-pixel histograms over those values: O(pixels + levels x regions).
 */
export function fewLevelsProCurve(
  maps: ArrayLike<number>[],
  masks: ArrayLike<number>[],
  width: number,
  height: number,
): { fpr: number[]; pro: number[] } {
  const values = new Set<number>();
  for (const map of maps) for (let p = 0; p < map.length; p++) values.add(map[p]);
  const levels = distinctDescending(Array.from(values));
  const level = new Map(levels.map((v, i) => [v, i]));
  const normals = new Float64Array(levels.length);
  const regions: { size: number; hist: Float64Array }[] = [];
  for (let img = 0; img < maps.length; img++) {
    const inRegion = new Uint8Array(width * height);
    for (const region of floodFillRegions(masks[img], width, height)) {
      const hist = new Float64Array(levels.length);
      for (const p of region) {
        hist[level.get(maps[img][p])!]++;
        inRegion[p] = 1;
      }
      regions.push({ size: region.length, hist });
    }
    for (let p = 0; p < width * height; p++) if (!inRegion[p]) normals[level.get(maps[img][p])!]++;
  }
  const totalNormals = normals.reduce((a, b) => a + b, 0);
  const fpr = [0], pro = [0];
  let normalsAbove = 0;
  const regionAbove = new Float64Array(regions.length);
  for (let k = 0; k < levels.length; k++) {
    normalsAbove += normals[k];
    let overlap = 0;
    regions.forEach((r, i) => {
      regionAbove[i] += r.hist[k];
      overlap += regionAbove[i] / r.size;
    });
    fpr.push(normalsAbove / totalNormals);
    pro.push(overlap / regions.length);
  }
  return { fpr, pro };
}
