/**
 * The channel bookkeeping in front of each flow coupling block as one op:
 *
 *   permuteSplit(z, perm, split, cond) = [z[.., perm[:split]], concat(z[.., perm[split:]], cond)]
 *     the fixed channel permutation, the split into the coupling's halves, and the second
 *     half's condition (the first subnet's input), in one pass instead of gather, split, concat.
 *
 * Kernels (lib/backend/js/channel_kernels.ts):
 *   AstPermuteSplit ({z, perm, cond?}, {split}) -> [first, second]
 *   AstPermuteSplitGrad ({dFirst, dSecond, perm}, {split}) -> dz
 */
import * as tf from "@tensorflow/tfjs-core";
import { useFused } from "./fused_switch.ts";

export const PERMUTE_SPLIT = "AstPermuteSplit";
export const PERMUTE_SPLIT_GRAD = "AstPermuteSplitGrad";

const floatZeros = (t: tf.Tensor) => tf.zeros(t.shape);

/** AstPermuteSplit's gradient: the inverse scatter as one kernel; the condition's is a slice. */
export function registerPermuteSplitGradient(): void {
  tf.registerGradient({
    kernelName: PERMUTE_SPLIT,
    inputsToSave: ["perm"],
    gradFunc: (dys, saved, attrs) => {
      const [dFirst, dSecond] = dys as tf.Tensor[];
      const [perm] = saved;
      const { split } = attrs as unknown as { split: number };
      const rest = perm.shape[0] - split;
      return {
        z: () => tf.engine().runKernel(PERMUTE_SPLIT_GRAD, { dFirst, dSecond, perm }, { split } as unknown as tf.NamedAttrMap) as tf.Tensor,
        perm: () => floatZeros(perm),
        cond: () => tf.slice(dSecond, [0, 0, 0, rest], [-1, -1, -1, -1]),
      };
    },
  });
}

/**
 * [z[.., perm[:split]], concat(z[.., perm[split:]], cond)] for z [B,H,W,C] (module comment) with
 * the kernel; `perm` int32 [C]. Null where the active backend has no such kernel: the caller
 * composes (the flow with its ChannelPermutation, whose gradient is a cheaper gather with the
 * same values: lib/models/flow/coupling_block.ts).
 */
export function permuteSplit(z: tf.Tensor4D, perm: tf.Tensor1D, split: number, cond: tf.Tensor4D | null): [tf.Tensor4D, tf.Tensor4D] | null {
  if (!useFused(PERMUTE_SPLIT) || z.dtype !== "float32" || perm.dtype !== "int32") return null;
  const inputs: tf.NamedTensorMap = cond ? { z, perm, cond } : { z, perm };
  return tf.engine().runKernel(PERMUTE_SPLIT, inputs, { split } as unknown as tf.NamedAttrMap) as [tf.Tensor4D, tf.Tensor4D];
}

/** The same from tfjs ops (gather, split, concat): what the op computes; the reference in tests. */
export function permuteSplitComposed(z: tf.Tensor4D, perm: tf.Tensor1D, split: number, cond: tf.Tensor4D | null): [tf.Tensor4D, tf.Tensor4D] {
  const [first, second] = tf.split(tf.gather(z, perm, 3), [split, z.shape[3] - split], 3);
  return [first as tf.Tensor4D, (cond ? tf.concat([second, cond], 3) : second) as tf.Tensor4D];
}
