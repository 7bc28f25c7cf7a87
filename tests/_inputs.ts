/** Test helpers: a sample's depth preprocessed (all intermediates) and a ground-truth mask, from files. */
import { readXyzTiff } from "../lib/io/tiff.ts";
import { preprocessDepth, type PreprocessDepthOptions, type PreprocessedDepth } from "../lib/preprocess/depth.ts";
import { readGroundTruth } from "../lib/run/inputs.ts";
import type { Sample } from "../lib/types.ts";

export async function loadDepth(sample: Sample, options: PreprocessDepthOptions = {}): Promise<PreprocessedDepth> {
  if (!sample.xyzPath) throw new Error(`${sample.rgbPath}: no xyz point map`);
  const map = await readXyzTiff(sample.xyzPath);
  return preprocessDepth(map.xyz, map.height, map.width, options);
}

export const loadMask = readGroundTruth;
