/**
 * EfficientNet-B5 as an AST feature backbone: image -> PIL-bilinear resize to stride*mapLen
 * (768 for a 24x24 map) -> ImageNet normalisation -> network up to block 35 -> HWC features
 * [mapLen, mapLen, 304].
 */
import * as tf from "@tensorflow/tfjs-core";
import type { DecodedImage } from "../../io/images.ts";
import type { Backbone } from "../backbone.ts";
import { preprocessRgb, type RgbRecipe } from "../../preprocess/rgb.ts";
import { AST_FEATURE_BLOCK, B5_BLOCKS } from "./architecture.ts";
import { EfficientNetB5 } from "./model.ts";
import { loadEfficientNetWeights } from "./weights.ts";

/**
 * `Backbone` plus the optional fields this backbone fills, declared here too so the module
 * type-checks whether or not backbones.ts's `Backbone` declares them.
 */
export interface EfficientNetBackbone extends Backbone {
  /** `blockN` */
  layer?: string;
  /** input pixels per feature cell (32 at blocks 27..35) */
  stride?: number;
  inputSize?(mapLen: number): number;
  /** identifies resize + normalisation (cache key) */
  preprocessing?: string;
  /** SHA-256 of the weights file */
  weightsChecksum?: string;
  /** frees the network's weights */
  dispose?(): void;
}

/** PIL-bilinear resize to stride*mapLen, [0,1], ImageNet mean/std (lib/preprocess/rgb.ts); the feature-cache id. */
export const EFFICIENTNET_PREPROCESSING = "pil-bilinear/imagenet-norm/v1";
export const EFFICIENTNET_RECIPE: RgbRecipe = "pil-bilinear-imagenet";

/** Total stride of the network at the output of `block` (stem stride 2 times block strides). */
export function strideAtBlock(block: number): number {
  return B5_BLOCKS.slice(0, block + 1).reduce((s, b) => s * b.stride, 2);
}

export interface EfficientNetB5BackboneOptions {
  /** block whose output is the feature map (default 35, the paper's) */
  block?: number;
  /** expected SHA-256 of the weights file */
  sha256?: string;
}

export async function efficientNetB5Backbone(
  weightsPath: string,
  opts: EfficientNetB5BackboneOptions = {},
): Promise<EfficientNetBackbone> {
  const block = opts.block ?? AST_FEATURE_BLOCK;
  if (!Number.isInteger(block) || block < 0 || block >= B5_BLOCKS.length) {
    throw new RangeError(`EfficientNet-B5 block must be in 0..${B5_BLOCKS.length - 1}, got ${block}`);
  }
  const weights = await loadEfficientNetWeights(weightsPath, { sha256: opts.sha256 });
  const model = EfficientNetB5.fromReferenceWeights(weights.tensors, { upToBlock: block, source: weightsPath });
  const stride = strideAtBlock(block);
  const channels = B5_BLOCKS[block].outChannels;
  let disposed = false;

  return {
    name: "efficientnet-b5",
    description: `EfficientNet-B5 block ${block} (${channels} ch, stride ${stride}; reference-package architecture, ` +
      `static padding for 456 px), weights ${weightsPath} (${weights.naming} names, sha256 ${weights.sha256.slice(0, 12)}…)`,
    channels,
    layer: `block${block}`,
    stride,
    inputSize: (mapLen: number) => stride * mapLen,
    preprocessing: EFFICIENTNET_PREPROCESSING,
    recipe: EFFICIENTNET_RECIPE,
    weightsChecksum: weights.sha256,
    async extract(image: DecodedImage, mapLen: number): Promise<Float32Array> {
      if (disposed) throw new Error("efficientnet-b5 backbone used after dispose()");
      if (!Number.isInteger(mapLen) || mapLen < 1) throw new RangeError(`mapLen must be a positive integer, got ${mapLen}`);
      const side = stride * mapLen;
      const input = tf.tensor4d(preprocessRgb(image, side, EFFICIENTNET_RECIPE).data, [1, side, side, 3]);
      try {
        const out = model.forward(input, [block]).get(block)!;
        try {
          if (out.shape[1] !== mapLen || out.shape[2] !== mapLen) {
            throw new Error(`efficientnet-b5: ${side}px input gave a ${out.shape[1]}x${out.shape[2]} map, expected ${mapLen}x${mapLen}`);
          }
          return (await out.data()) as Float32Array; // NHWC with N=1 = HWC
        } finally {
          out.dispose();
        }
      } finally {
        input.dispose();
      }
    },
    dispose(): void {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}
