/**
 * Image counts per class as the datasets' papers publish them, for estimates made where the data
 * is not on disk (lib/experiment/class_counts.ts prefers counting the data itself).
 *
 * Sources:
 *  - MVTec AD: Bergmann, Fauser, Sattlegger, Steger, "MVTec AD — A Comprehensive Real-World
 *    Dataset for Unsupervised Anomaly Detection", CVPR 2019, Table 1 (train = train/good; test =
 *    good + defective). Totals 3629 train, 1725 test. No validation split.
 *  - MVTec 3D-AD: Bergmann, Jin, Sattlegger, Steger, "The MVTec 3D-AD Dataset for Unsupervised 3D
 *    Anomaly Detection and Localization", VISAPP 2022, Table 1 (test = good + anomalous). Totals
 *    2656 train, 294 validation, 1197 test.
 * The tests check the per-class numbers against these totals.
 */
import type { DatasetLayout } from "../types.ts";

export interface SplitCounts {
  train: number;
  validation: number;
  test: number;
}

export const MVTEC_AD_PUBLISHED: Readonly<Record<string, SplitCounts>> = {
  bottle: { train: 209, validation: 0, test: 83 },
  cable: { train: 224, validation: 0, test: 150 },
  capsule: { train: 219, validation: 0, test: 132 },
  carpet: { train: 280, validation: 0, test: 117 },
  grid: { train: 264, validation: 0, test: 78 },
  hazelnut: { train: 391, validation: 0, test: 110 },
  leather: { train: 245, validation: 0, test: 124 },
  metal_nut: { train: 220, validation: 0, test: 115 },
  pill: { train: 267, validation: 0, test: 167 },
  screw: { train: 320, validation: 0, test: 160 },
  tile: { train: 230, validation: 0, test: 117 },
  toothbrush: { train: 60, validation: 0, test: 42 },
  transistor: { train: 213, validation: 0, test: 100 },
  wood: { train: 247, validation: 0, test: 79 },
  zipper: { train: 240, validation: 0, test: 151 },
};

export const MVTEC3D_PUBLISHED: Readonly<Record<string, SplitCounts>> = {
  bagel: { train: 244, validation: 22, test: 110 },
  cable_gland: { train: 223, validation: 23, test: 108 },
  carrot: { train: 286, validation: 29, test: 159 },
  cookie: { train: 210, validation: 22, test: 131 },
  dowel: { train: 288, validation: 34, test: 130 },
  foam: { train: 236, validation: 27, test: 100 },
  peach: { train: 361, validation: 42, test: 132 },
  potato: { train: 300, validation: 33, test: 114 },
  rope: { train: 298, validation: 33, test: 101 },
  tire: { train: 210, validation: 29, test: 112 },
};

/** The published totals the per-class tables must add up to. */
export const PUBLISHED_TOTALS: Readonly<Record<DatasetLayout, SplitCounts>> = {
  mvtecad: { train: 3629, validation: 0, test: 1725 },
  mvtec3d: { train: 2656, validation: 294, test: 1197 },
};

/** The published counts of a class of MVTec AD / MVTec 3D-AD, or null for a class they do not have. */
export function publishedCounts(layout: DatasetLayout, className: string): SplitCounts | null {
  const table = layout === "mvtecad" ? MVTEC_AD_PUBLISHED : MVTEC3D_PUBLISHED;
  return Object.hasOwn(table, className) ? table[className] : null;
}
