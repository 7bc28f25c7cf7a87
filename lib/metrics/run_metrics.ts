/**
 * The paper's metrics of one run from its per-image scores and anomaly maps: image AUROC (max
 * and mean scoring), pixel AUROC, AUPRO, F1-max and per-defect-type AUROC. A metric that needs
 * both classes (or defect masks) and lacks them is null.
 */
import { auroc } from "./roc.ts";
import { aupro } from "./pro.ts";
import { f1Max } from "./f1.ts";

/** Per-image scores and maps of N test images (lib/models/ast.ts `ImageResults`). */
export interface ScoredImages {
  scoreMax: Float32Array;
  scoreMean: Float32Array;
  /** [N, outSize, outSize] */
  maps: Float32Array;
}

export interface Metrics {
  image_auroc_max: number | null;
  image_auroc_mean: number | null;
  pixel_auroc: number | null;
  aupro: number | null;
  f1_max: number | null;
  /** image AUROC (max scoring) of each defect type against the good images */
  per_defect_type: Record<string, number>;
}

/** Metrics; a metric that needs both classes (or defect masks) and lacks them is null. */
export function computeMetrics(
  results: ScoredImages,
  labels: ArrayLike<number>,
  defectTypes: string[],
  gt: Float32Array | null,
  outSize: number,
): Metrics {
  const labelList = Array.from(labels);
  const hasBoth = labelList.some((l) => l > 0) && labelList.some((l) => l === 0);
  const perType: Record<string, number> = {};
  if (hasBoth) {
    for (const type of new Set(defectTypes.filter((_, i) => labels[i] > 0))) {
      const idx = defectTypes.map((_, i) => i).filter((i) => defectTypes[i] === type || labels[i] === 0);
      perType[type] = auroc(idx.map((i) => results.scoreMax[i]), idx.map((i) => labels[i]));
    }
  }
  let pixel: number | null = null, pro: number | null = null;
  if (gt && gt.some((v) => v > 0)) {
    pixel = auroc(results.maps, gt);
    const px = outSize * outSize;
    const maps = Array.from({ length: labels.length }, (_, i) => results.maps.subarray(i * px, (i + 1) * px));
    const masks = Array.from({ length: labels.length }, (_, i) => gt.subarray(i * px, (i + 1) * px));
    pro = aupro(maps, masks, outSize, outSize);
  }
  return {
    image_auroc_max: hasBoth ? auroc(results.scoreMax, labels) : null,
    image_auroc_mean: hasBoth ? auroc(results.scoreMean, labels) : null,
    pixel_auroc: pixel,
    aupro: pro,
    f1_max: hasBoth ? f1Max(results.scoreMax, labels).f1 : null,
    per_defect_type: perType,
  };
}
