/**
 * The input stage: files in, the flow's input out. Per input (`{image, depth}`): image features
 * from the backbone (lib/preprocess/rgb.ts + lib/features, cached), the unshuffled depth and soft
 * foreground mask from the xyz point map (lib/preprocess/depth.ts), concatenated features first
 * (combi). Training, evaluation and scoring new images all come through `buildInputs`.
 */
import { readImageSize } from "../data/image_sizes.ts";
import { readImage } from "../io/images.ts";
import { readXyzTiff } from "../io/tiff.ts";
import type { Backbone } from "../features/backbone.ts";
import { type CacheContext, cachedImageFeatures } from "../features/feature_cache.ts";
import { DEPTH_CHANNELS, depthInput } from "../preprocess/depth.ts";
import { groundTruthMask } from "../preprocess/mask.ts";
import type { InputFiles, Mode } from "../types.ts";

/** The flow's input for N files, stacked. */
export interface FeatureSet {
  files: InputFiles[];
  side: number;
  channels: number;
  /** [N, side, side, channels] */
  x: Float32Array;
  /** [N, side, side] soft foreground masks, or null when no mask is used */
  masks: Float32Array | null;
}

export interface InputOptions {
  mode: Mode;
  mapLen: number;
  backbone: Backbone | null;
  useMask: boolean;
  preprocess: { fills: number; bgThresh: number; dilateSize: number };
  /** called per input of each pass; `what` = "image" (backbone) or "depth" */
  onProgress?: (done: number, total: number, what: "image" | "depth") => void;
  /** image-feature cache (lib/features/feature_cache.ts); null/absent = extract every time */
  cache?: CacheContext | null;
}

export class InputError extends Error {}

export { DEPTH_CHANNELS };

/** Input channels of the flow: image features, depth, or both. */
export function inputChannels(mode: Mode, backbone: Backbone | null): number {
  const img = mode === "depth" ? 0 : backbone!.channels;
  return img + (mode === "rgb" ? 0 : DEPTH_CHANNELS);
}

/**
 * Writes image features [cells, imageChannels] into the first imageChannels of each cell of the
 * flow input x [cells, channels] (the depth channels, if any, follow them).
 */
export function setImageFeatures(x: Float32Array, img: Float32Array, imageChannels: number, channels: number): void {
  if (imageChannels === channels) return x.set(img);
  const cells = img.length / imageChannels;
  for (let k = 0; k < cells; k++) x.set(img.subarray(k * imageChannels, (k + 1) * imageChannels), k * channels);
}

export async function buildInputs(files: InputFiles[], o: InputOptions): Promise<FeatureSet> {
  const side = o.mapLen, cells = side * side;
  const channels = inputChannels(o.mode, o.backbone);
  const x = new Float32Array(files.length * cells * channels);
  const masks = o.useMask ? new Float32Array(files.length * cells) : null;
  if (o.mode !== "depth") {
    const c = o.backbone!.channels;
    const images = files.map((f) => f.image);
    const { x: img } = await cachedImageFeatures(images, o.backbone!, side, o.cache ?? null, (d, t) => o.onProgress?.(d, t, "image"));
    setImageFeatures(x, img, c, channels);
  }
  if (o.mode !== "rgb") {
    const offset = o.mode === "depth" ? 0 : o.backbone!.channels;
    let first: { path: string; width: number; height: number } | null = null;
    for (let i = 0; i < files.length; i++) {
      const path = files[i].depth;
      if (!path) throw new InputError(`${files[i].image}: no xyz point map (not MVTec 3D-AD)`);
      const map = await readXyzTiff(path);
      // one size per class, as for the images (lib/data/image_sizes.ts): never resized silently
      first ??= { path, width: map.width, height: map.height };
      if (map.width !== first.width || map.height !== first.height) {
        throw new InputError(`${path}: ${map.width}x${map.height} point map, but ${first.path} is ${first.width}x${first.height}; all point maps of a class must share one size`);
      }
      const d = depthInput(map.xyz, map.height, map.width, { mapLen: side, ...o.preprocess, useMask: o.useMask });
      const base = i * cells * channels;
      for (let k = 0; k < cells; k++) x.set(d.depth.data.subarray(k * DEPTH_CHANNELS, (k + 1) * DEPTH_CHANNELS), base + k * channels + offset);
      if (masks) masks.set(d.foreground, i * cells);
      o.onProgress?.(i + 1, files.length, "depth");
    }
  }
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) {
      const i = Math.floor(k / (cells * channels));
      throw new InputError(`${files[i].depth ?? files[i].image}: non-finite feature value (corrupt input?)`);
    }
  }
  return { files, side, channels, x, masks };
}

/**
 * A ground-truth mask file (undefined: a good image) as binary side x side. With `imagePath` the
 * mask must have that image's size: a mask of another size would be stretched onto the image
 * and mark the wrong pixels (datasets are checked on open; this guards samples built by hand).
 */
export async function readGroundTruth(maskPath: string | undefined, side: number, threshold = 0.5, imagePath?: string): Promise<Float32Array> {
  if (maskPath === undefined) return groundTruthMask(null, side, threshold);
  const mask = await readImage(maskPath);
  if (imagePath !== undefined) {
    const image = await readImageSize(imagePath);
    if (image.width !== mask.width || image.height !== mask.height) {
      throw new InputError(`${maskPath}: mask is ${mask.width}x${mask.height} but its image ${imagePath} is ${image.width}x${image.height}; save the mask at the image's size`);
    }
  }
  return groundTruthMask(mask, side, threshold);
}

/**
 * Ground-truth masks [N, outSize, outSize] (binary) of test images; `threshold` after the bilinear
 * resize (the evaluation passes EVAL_GT_THRESHOLD, the official `> 0`). `imagePaths` (same order)
 * checks each mask against its image's size.
 */
export async function groundTruth(maskPaths: (string | undefined)[], outSize: number, threshold = 0.5, imagePaths?: string[]): Promise<Float32Array> {
  const out = new Float32Array(maskPaths.length * outSize * outSize);
  for (let i = 0; i < maskPaths.length; i++) out.set(await readGroundTruth(maskPaths[i], outSize, threshold, imagePaths?.[i]), i * outSize * outSize);
  return out;
}
