/**
 * Ground-truth defect masks at the anomaly map's resolution: any non-zero pixel is defect,
 * bilinear resize (align_corners false), then `> threshold` (default 0.5).
 */
import type { DecodedImage } from "../io/images.ts";
import { binarize, resizeBilinear } from "./resize.ts";

/** A mask image as binary side x side; null (a good image) gives all zeros. */
export function groundTruthMask(image: DecodedImage | null, side: number, threshold = 0.5): Float32Array {
  if (image === null) return new Float32Array(side * side);
  const n = image.width * image.height;
  const unit = new Float32Array(n);
  for (let k = 0; k < n; k++) unit[k] = image.data[k * image.channels] > 0 ? 1 : 0;
  return binarize(resizeBilinear(unit, image.height, image.width, side, side), threshold);
}
