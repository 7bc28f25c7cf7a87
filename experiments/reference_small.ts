/**
 * The calibration configuration of docs/REFERENCE_RESULTS.md (the official code on the shared
 * synthetic puck: depth mode, teacher hidden 64 x 4 blocks, student hidden 256 x 4 blocks,
 * batch 8, Adam 2e-4, 24 epochs each). Same as `--preset reference-small`, spelled out.
 *
 *   deno task ast run --data ../shared/data/synthetic_mvtec3d --class puck --mode depth \
 *     --config experiments/reference_small.ts --seed 0
 */
import type { ConfigPatch } from "../lib/config/patch.ts";

const config: ConfigPatch = {
  preset: "reference-small",
  mapLen: 24,
  teacher: { hidden: 64, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9, epochs: 24 },
  student: { kind: "asymmetric", hidden: 256, nBlocks: 4, leakySlope: 0.01, epochs: 24 },
  batchSize: 8,
};
export default config;
