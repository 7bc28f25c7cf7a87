/**
 * RGB preprocessing of the image backbones: an 8-bit image (gray promoted to RGB) resized to the
 * backbone's input side and scaled, as an HWC float image. One recipe per way the pretrained
 * networks were trained; each backbone names its recipe (lib/features/backbones.ts). The 3D side
 * is depth.ts; both give the model an HWC image.
 *
 * - `pil-bilinear-imagenet`: torchvision on a PIL image, `Resize((S,S))` (PIL bilinear, antialiased
 *   when shrinking) -> `ToTensor` ([0,1]) -> `Normalize(ImageNet mean, std)` (EfficientNet-B5).
 * - `area-imagenet`: [0,1], exact area resize, ImageNet mean/std (the raw-pixel patch embedding).
 * - `area-unit-range`: exact area resize of the 0-255 values, then to [-1, 1] as Keras'
 *   `mobilenet_v2.preprocess_input` (MobileNetV2).
 */
import { type DecodedImage, toRgb } from "../io/images.ts";
import type { HwcImage } from "../types.ts";
import { areaResize } from "./resize.ts";
import { resizeBilinearPil } from "./resize_pil.ts";

export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

export type RgbRecipe = "pil-bilinear-imagenet" | "area-imagenet" | "area-unit-range";

const hwc = (data: Float32Array, side: number): HwcImage => ({ data, height: side, width: side, channels: 3 });

/** PIL-bilinear resize to side x side -> [0,1] -> ImageNet normalisation. */
export function pilBilinearImageNet(image: DecodedImage, side: number): HwcImage {
  const rgb = toRgb(image);
  const resized = resizeBilinearPil(rgb.data, rgb.width, rgb.height, 3, side, side);
  const out = new Float32Array(side * side * 3);
  // ToTensor divides by 255 in float32, Normalize subtracts and divides in float32: same order here.
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = Math.fround(v / 255);
  for (let p = 0; p < side * side; p++) {
    for (let c = 0; c < 3; c++) {
      out[p * 3 + c] = (scale[resized[p * 3 + c]] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    }
  }
  return hwc(out, side);
}

/** Each channel as floats (`scale` applied first), area-resized to side x side. */
function areaPlanes(image: DecodedImage, side: number, scale: (v: number) => number): Float32Array[] {
  const rgb = toRgb(image);
  const planes: Float32Array[] = [];
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(rgb.width * rgb.height);
    for (let k = 0; k < plane.length; k++) plane[k] = scale(rgb.data[k * 3 + c]);
    planes.push(areaResize(plane, rgb.height, rgb.width, side, side));
  }
  return planes;
}

/** [0,1] -> area resize -> ImageNet normalisation. */
export function areaImageNet(image: DecodedImage, side: number): HwcImage {
  const planes = areaPlanes(image, side, (v) => v / 255);
  const out = new Float32Array(side * side * 3);
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < side * side; k++) out[k * 3 + c] = (planes[c][k] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
  return hwc(out, side);
}

/** Area resize of the 0-255 values -> [-1, 1]. */
export function areaUnitRange(image: DecodedImage, side: number): HwcImage {
  const planes = areaPlanes(image, side, (v) => v);
  const out = new Float32Array(side * side * 3);
  for (let k = 0; k < side * side; k++) {
    for (let c = 0; c < 3; c++) out[k * 3 + c] = planes[c][k] / 127.5 - 1;
  }
  return hwc(out, side);
}

const RECIPES: Record<RgbRecipe, (image: DecodedImage, side: number) => HwcImage> = {
  "pil-bilinear-imagenet": pilBilinearImageNet,
  "area-imagenet": areaImageNet,
  "area-unit-range": areaUnitRange,
};

/** The image as a backbone with `recipe` expects it, at side x side. */
export function preprocessRgb(image: DecodedImage, side: number, recipe: RgbRecipe): HwcImage {
  return RECIPES[recipe](image, side);
}
