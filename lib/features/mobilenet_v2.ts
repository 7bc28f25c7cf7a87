/**
 * MobileNetV2 (Keras applications, alpha 0.35, ImageNet) as an AST feature extractor, read from
 * a TensorFlow.js layers model folder (`model.json` + `weights.bin`). Only the base network up
 * to the chosen layer is built: the classifier head (pooling + two Dense layers) is never
 * loaded. Input: the image resized (area averaging = antialiased) to stride * mapLen square,
 * RGB scaled to [-1, 1] as Keras' `mobilenet_v2.preprocess_input` does.
 *
 * Default layer `block_12_add` (stride 16, 32 channels at alpha 0.35): the output of the last
 * stride-16 block, the same kind of feature as the paper's EfficientNet-B5 block 35 output (a
 * linear projection plus residual, no activation). Stride 16 keeps 16 px cells (256 px input for
 * the demo's 16x16 map, 384 px for 24x24). The wider `block_13_expand_relu` (192 channels) was
 * the other candidate: ~75% of its values are exactly 0 after ReLU6 (and the pre-ReLU tensor is
 * a rank-32 linear map of block_12_add), point masses on which the teacher flow's likelihood is
 * unbounded (its loss kept falling, -170 after 20 epochs), and on the MVTec AD grid subset it
 * scored lower (image AUROC max 0.42 vs 0.79, pixel 0.91 vs 0.96, demo preset, seed 0) in about
 * twice the time.
 */
import * as tf from "@tensorflow/tfjs-core";
import { basename, join } from "node:path";
import type { Backbone } from "./backbone.ts";
import { preprocessRgb, type RgbRecipe } from "../preprocess/rgb.ts";
import { compileFoldedGraph } from "./folded_graph.ts";
import { functionalGraphContaining, readLayersModelFolder } from "./tfjs_layers_model.ts";
import { pathKind, weightsChecksum } from "./weights_files.ts";
import { verifyWeights } from "./efficientnet/checksum.ts";

export const MOBILENET_V2_DEFAULT_LAYER = "block_12_add";
/** Bumped whenever the resize or scaling changes (part of the feature-cache key). */
export const MOBILENET_V2_PREPROCESS = "area-resize/rgb/[-1,1]/v1";
/** Keras' `mobilenet_v2.preprocess_input` after an antialiased resize (lib/preprocess/rgb.ts). */
export const MOBILENET_V2_RECIPE: RgbRecipe = "area-unit-range";

export interface MobileNetV2Options {
  layer?: string;
}

/**
 * Loads the base network from a folder holding model.json (or the model.json path itself) and
 * cuts it at `layer` (default MOBILENET_V2_DEFAULT_LAYER).
 */
export async function mobileNetV2Backbone(weightsPath: string, opts: MobileNetV2Options = {}): Promise<Backbone> {
  const dir = (await pathKind(weightsPath)) === "file" && basename(weightsPath) === "model.json" ? join(weightsPath, "..") : weightsPath;
  const folder = await readLayersModelFolder(dir);
  // A `<file>.sha256` record beside model.json or a weight shard is checked as EfficientNet's is:
  // a changed or truncated file is an error naming it and both hashes, never used silently.
  for (const file of folder.files) await verifyWeights(file);
  const layer = opts.layer ?? MOBILENET_V2_DEFAULT_LAYER;
  const nodes = functionalGraphContaining(folder.topology, layer);
  const graph = compileFoldedGraph(nodes, folder.weights, layer);
  const checksum = await weightsChecksum(folder.files);
  const stride = graph.stride;
  return {
    name: "mobilenet_v2",
    description: `MobileNetV2 alpha 0.35 (ImageNet) at ${layer}, stride ${stride}, ${graph.channels} channels`,
    channels: graph.channels,
    layer,
    stride,
    inputSize: (mapLen) => stride * mapLen,
    preprocessing: MOBILENET_V2_PREPROCESS,
    recipe: MOBILENET_V2_RECIPE,
    weightsChecksum: checksum,
    weightsFiles: folder.files,
    extract: (image, mapLen) => {
      const size = stride * mapLen;
      const input = preprocessRgb(image, size, MOBILENET_V2_RECIPE);
      const y = tf.tidy(() => graph.run(tf.tensor4d(input.data, [1, size, size, 3])));
      return y.data().then((d) => {
        const shape = y.shape;
        y.dispose();
        if (shape[1] !== mapLen || shape[2] !== mapLen) {
          throw new Error(`mobilenet_v2: ${size} px input gave a ${shape[1]}x${shape[2]} map, expected ${mapLen}x${mapLen}`);
        }
        return d as Float32Array;
      });
    },
    dispose: () => graph.dispose(),
  };
}
