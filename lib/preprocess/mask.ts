/**
 * Ground-truth defect masks at the anomaly map's resolution: any non-zero pixel is defect,
 * bilinear resize (align_corners false), then `> threshold` (default 0.5).
 */
import type { DecodedImage } from "../io/images.ts";
import { binarize, resizeBilinear } from "./resize.ts";

/**
 * The binarisation of the official evaluation: its dataset resizes the mask bilinearly to the
 * map side and sets every value > 0 to 1, so a pixel partly covered by a defect is a defect
 * pixel. Used for the pixel AUROC and AUPRO of a run (lib/run/evaluate.ts).
 */
export const EVAL_GT_THRESHOLD = 0;

/** A mask image as binary side x side; null (a good image) gives all zeros. */
export function groundTruthMask(image: DecodedImage | null, side: number, threshold = 0.5): Float32Array {
  if (image === null) return new Float32Array(side * side);
  const n = image.width * image.height;
  const unit = new Float32Array(n);
  for (let k = 0; k < n; k++) unit[k] = image.data[k * image.channels] > 0 ? 1 : 0;
  return binarize(resizeBilinear(unit, image.height, image.width, side, side), threshold);
}
