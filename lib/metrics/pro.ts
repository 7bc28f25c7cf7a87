/**
 * Per-region overlap (PRO) curve and AUPRO as in the MVTec AD / MVTec 3D-AD official evaluation
 * (`compute_pro` + `calculate_au_pro`):
 * - defect regions are the 8-connected components of each ground-truth mask;
 * - at threshold t, PRO = mean over all regions of all images of (region pixels with score >= t)
 *   / region size, and FPR = (normal pixels with score >= t) / (normal pixels of all images);
 * - one curve point per distinct score (equal scores cross together), preceded by (0, 0);
 * - AUPRO = trapezoid area for FPR in [0, fprLimit], interpolated at fprLimit, / fprLimit.
 */
import { labelComponents } from "./components.ts";
import { argsortDescending } from "./sort.ts";
import { trapezoidUpTo } from "./trapezoid.ts";

export interface ProCurve {
  /** False-positive rate over all normal pixels, non-decreasing, starting at 0, ending at 1. */
  fpr: Float64Array;
  /** Mean per-region overlap, non-decreasing, starting at 0, ending at 1. */
  pro: Float64Array;
  /** thresholds[0] = +Infinity (the (0, 0) point), then the distinct scores, decreasing. */
  thresholds: Float64Array;
}

export interface AuproOptions {
  /** Upper FPR integration limit; the official evaluation uses 0.3. */
  fprLimit?: number;
}

/** Per pixel of the concatenated images: how much it adds to the FP count and to the PRO sum. */
interface PixelWeights {
  scores: Float64Array;
  /** 1 for normal pixels, 0 for defect pixels. */
  isNormal: Uint8Array;
  /** 1 / (size of the pixel's region) for defect pixels, 0 for normal ones. */
  overlapWeight: Float64Array;
  normalPixels: number;
  regions: number;
}

function checkImages(
  maps: ArrayLike<ArrayLike<number>>,
  masks: ArrayLike<ArrayLike<number>>,
  width: number,
  height: number,
): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`width and height must be positive integers, got ${width}x${height}`);
  }
  if (maps.length !== masks.length) throw new Error(`${maps.length} anomaly maps but ${masks.length} masks`);
  if (maps.length === 0) throw new Error("no anomaly maps given");
  const pixels = width * height;
  for (let i = 0; i < maps.length; i++) {
    if (maps[i].length !== pixels) throw new Error(`anomaly map ${i} has ${maps[i].length} values, expected ${width}x${height} = ${pixels}`);
    if (masks[i].length !== pixels) throw new Error(`mask ${i} has ${masks[i].length} values, expected ${width}x${height} = ${pixels}`);
  }
}

function pixelWeights(
  maps: ArrayLike<ArrayLike<number>>,
  masks: ArrayLike<ArrayLike<number>>,
  width: number,
  height: number,
): PixelWeights {
  checkImages(maps, masks, width, height);
  const pixels = width * height;
  const total = maps.length * pixels;
  const scores = new Float64Array(total);
  const isNormal = new Uint8Array(total);
  const overlapWeight = new Float64Array(total);
  let normalPixels = 0, regions = 0;
  for (let img = 0; img < maps.length; img++) {
    const map = maps[img];
    const offset = img * pixels;
    const components = labelComponents(masks[img], width, height);
    regions += components.count;
    for (let p = 0; p < pixels; p++) {
      const s = map[p];
      if (s !== s) throw new Error(`anomaly map ${img}: NaN at pixel ${p}`);
      scores[offset + p] = s;
      const region = components.labels[p];
      if (region === 0) {
        isNormal[offset + p] = 1;
        normalPixels++;
      } else {
        overlapWeight[offset + p] = 1 / components.sizes[region];
      }
    }
  }
  return { scores, isNormal, overlapWeight, normalPixels, regions };
}

/** PRO curve over all distinct thresholds. Throws when no mask has a defect or no pixel is normal. */
export function proCurve(
  maps: Float32Array[] | ArrayLike<number>[],
  masks: ArrayLike<number>[],
  width: number,
  height: number,
): ProCurve {
  const w = pixelWeights(maps, masks, width, height);
  if (w.regions === 0) throw new Error(`PRO is undefined: none of the ${masks.length} masks contains a defect region`);
  if (w.normalPixels === 0) throw new Error("PRO is undefined: every pixel of every mask is a defect (no normal pixels for the FPR)");
  const order = argsortDescending(w.scores, "anomaly maps");
  const n = order.length;
  // Worst case every score is distinct, plus the leading (0, 0); trimmed at the end.
  const fpr = new Float64Array(n + 1);
  const pro = new Float64Array(n + 1);
  const thresholds = new Float64Array(n + 1);
  thresholds[0] = Infinity;
  let points = 1;
  let falsePositives = 0, overlapSum = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    falsePositives += w.isNormal[i];
    overlapSum += w.overlapWeight[i];
    // Emit a point only after the last pixel of a group of equal scores.
    if (k + 1 < n && w.scores[order[k + 1]] === w.scores[i]) continue;
    fpr[points] = falsePositives / w.normalPixels;
    // Summing 1/size per pixel can overshoot 1 by rounding; the official code clips too.
    pro[points] = Math.min(overlapSum / w.regions, 1);
    thresholds[points] = w.scores[i];
    points++;
  }
  return { fpr: fpr.slice(0, points), pro: pro.slice(0, points), thresholds: thresholds.slice(0, points) };
}

/** Normalised area under the PRO curve for FPR in [0, fprLimit]; a perfect map scores 1. */
export function aupro(
  maps: Float32Array[] | ArrayLike<number>[],
  masks: ArrayLike<number>[],
  width: number,
  height: number,
  { fprLimit = 0.3 }: AuproOptions = {},
): number {
  if (!(fprLimit > 0 && fprLimit <= 1)) throw new Error(`fprLimit must be in (0, 1], got ${fprLimit}`);
  const curve = proCurve(maps, masks, width, height);
  return trapezoidUpTo(curve.fpr, curve.pro, fprLimit) / fprLimit;
}
