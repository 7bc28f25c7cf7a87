/**
 * lib/preprocess: the input stage's pure functions, RGB and depth side by side, both returning
 * an HWC float image (lib/types.ts `HwcImage`): rgb.ts (the backbones' resize + scaling recipes),
 * depth.ts (xyz point map -> unshuffled depth + soft foreground mask), mask.ts (ground truth at
 * map resolution), resize.ts / resize_pil.ts (the resampling they share).
 * No file access and no tfjs. May import: lib/types.ts, lib/io (decoded image types, toRgb).
 */
export { areaImageNet, areaUnitRange, IMAGENET_MEAN, IMAGENET_STD, pilBilinearImageNet, preprocessRgb, type RgbRecipe } from "./rgb.ts";
export { DEPTH_CHANNELS, type DepthInput, depthInput, preprocessDepth, type PreprocessDepthOptions, UNSHUFFLE_FACTOR } from "./depth.ts";
export { groundTruthMask } from "./mask.ts";
