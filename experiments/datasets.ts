/**
 * The datasets experiments run on. `demo` uses the generated synthetic puck (made on first use)
 * and the shared real data when present; `cpu` and `paper` use the full MVTec AD and MVTec 3D-AD,
 * which users download with `deno task data` (licence: CC BY-NC-SA 4.0) into data/ or point to
 * with $AST_MVTEC_AD / $AST_MVTEC3D.
 */
import type { DatasetRef } from "../lib/experiment/grid.ts";

export const GENERATED_PUCK: DatasetRef = { data: "data/generated", className: "puck", generate: { seed: 0 } };

/** 25 real MVTec AD `grid` training images (shared data of this workplace). */
export const SHARED_GRID: DatasetRef = {
  data: "../shared/data",
  className: "mvtec_ad_grid_subset",
  paperClass: "grid",
  optional: true,
  modes: ["rgb"],
  howToGet: "the shared data is not on this machine (only used at demo scale, skipped)",
};

/** The shared synthetic MVTec 3D-AD-layout puck (RGB + xyz; the calibration data of docs/REFERENCE_RESULTS.md). */
export const SHARED_PUCK: DatasetRef = {
  data: "../shared/data/synthetic_mvtec3d",
  className: "puck",
  optional: true,
  howToGet: "the shared data is not on this machine (skipped)",
};

export const MVTEC_AD_CLASSES = [
  "carpet", "grid", "leather", "tile", "wood",
  "bottle", "cable", "capsule", "hazelnut", "metal_nut", "pill", "screw", "toothbrush", "transistor", "zipper",
];
export const MVTEC_AD_TEXTURES = MVTEC_AD_CLASSES.slice(0, 5);

export const MVTEC3D_CLASSES = [
  "bagel", "cable_gland", "carrot", "cookie", "dowel", "foam", "peach", "potato", "rope", "tire",
];

/** Default locations; `$AST_MVTEC_AD` / `$AST_MVTEC3D` (the runtime's `datasets`) move them. */
const MVTEC_AD_ROOT = "data/mvtec_anomaly_detection";
const MVTEC3D_ROOT = "data/mvtec_3d_anomaly_detection";

export function mvtecAd(classes = MVTEC_AD_CLASSES): DatasetRef[] {
  return classes.map((className) => ({
    data: MVTEC_AD_ROOT,
    root: "mvtecAd",
    className,
    modes: ["rgb"],
    howToGet: `get MVTec AD with \`deno task data mvtec-ad\` (into ${MVTEC_AD_ROOT}), or set AST_MVTEC_AD to a copy`,
  }));
}

export function mvtec3d(classes = MVTEC3D_CLASSES): DatasetRef[] {
  return classes.map((className) => ({
    data: MVTEC3D_ROOT,
    root: "mvtec3d",
    className,
    howToGet: `get MVTec 3D-AD with \`deno task data mvtec-3d\` (into ${MVTEC3D_ROOT}), or set AST_MVTEC3D to a copy`,
  }));
}
