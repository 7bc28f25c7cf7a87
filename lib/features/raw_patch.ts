/**
 * Raw-pixel patch embedding: the image resized to 4*mapLen (area averaging, i.e. antialiased
 * when shrinking), ImageNet-normalised (lib/preprocess/rgb.ts `area-imagenet`) and
 * pixel-unshuffled by 4 -> 48 channels per cell. No learned features: a stand-in for a
 * pretrained backbone, always labelled as such. (4x4 patches rather than 8x8: a quarter of the
 * channels, so RGB+3D fits the demo's time budget.)
 */
import type { DecodedImage } from "../io/images.ts";
import { preprocessRgb, type RgbRecipe } from "../preprocess/rgb.ts";
import type { HwcImage } from "../types.ts";

export const RAW_PATCH_FACTOR = 4;
export const RAW_PATCH_RECIPE: RgbRecipe = "area-imagenet";

/** Features HWC [side/f, side/f, 3*f*f] of a preprocessed image, channel = c*f*f + dy*f + dx (torch pixel_unshuffle order). */
export function unshufflePatches(input: HwcImage, f = RAW_PATCH_FACTOR): Float32Array {
  const side = input.width, mapLen = side / f, cOut = 3 * f * f;
  if (input.height !== side || input.channels !== 3 || !Number.isInteger(mapLen)) {
    throw new Error(`raw patch embedding expects a square RGB input with a side divisible by ${f}, got ${input.width}x${input.height}x${input.channels}`);
  }
  const out = new Float32Array(mapLen * mapLen * cOut);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const cell = (Math.floor(y / f) * mapLen + Math.floor(x / f)) * cOut;
      for (let c = 0; c < 3; c++) out[cell + c * f * f + (y % f) * f + (x % f)] = input.data[(y * side + x) * 3 + c];
    }
  }
  return out;
}

/** Features HWC [mapLen, mapLen, 48] of an image. */
export function rawPatchEmbedding(image: DecodedImage, mapLen: number): Float32Array {
  return unshufflePatches(preprocessRgb(image, RAW_PATCH_FACTOR * mapLen, RAW_PATCH_RECIPE));
}
