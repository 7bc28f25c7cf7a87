/**
 * The student's BatchNorm (training mode, batch statistics) + LeakyReLU as one op:
 *   mean, var = per-channel moments of x (biased variance), invstd = 1 / sqrt(var + eps)
 *   y = leaky((x - mean) * invstd * w + b),  leaky(u) = u > 0 ? u : slope * u
 * The kernel outputs y and the batch mean and variance (for the running statistics; no gradient
 * flows through those two outputs). Its gradient is batchNorm2d's closed form (batch_norm.ts)
 * times LeakyReLU's, in two passes over (x, y, dy).
 *
 * Composed from tfjs ops it is ~14 full-size passes forward and backward (mean, sub, square,
 * mean, mul, mul, add, leaky; step, mul, sums, sub, mul, ...), ~12% of a hidden-256 student step
 * on wasm; the kernels (lib/backend/js/batch_norm_leaky_kernels.ts) make 3 forward and 2 backward.
 *
 * Kernels: AstBatchNormLeaky ({x, weight, bias}, {eps, slope}) -> [y, mean, variance]
 *          AstBatchNormLeakyGrad ({x, y, dy, mean, variance, weight}, {eps, slope}) -> [dx, dw, db]
 */
import * as tf from "@tensorflow/tfjs-core";
import { batchNorm2d, type BatchNormParams, runningStatistics } from "./batch_norm.ts";
import { useFused } from "./fused_switch.ts";

export const BATCH_NORM_LEAKY = "AstBatchNormLeaky";
export const BATCH_NORM_LEAKY_GRAD = "AstBatchNormLeakyGrad";

/** The attributes both kernels take. */
export interface BatchNormLeakyAttrs {
  eps: number;
  slope: number;
}

/** AstBatchNormLeaky's gradient: the gradient kernel, one run for dx, dw and db. */
export function registerBatchNormLeakyGradient(): void {
  tf.registerGradient({
    kernelName: BATCH_NORM_LEAKY,
    inputsToSave: ["x", "weight"],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy] = dys as tf.Tensor[];
      const [x, weight, y, mean, variance] = saved;
      // dx, dw and db share the first pass: run once here (see couplingHalf's gradient).
      const [dx, dw, db] = tf.engine().runKernel(BATCH_NORM_LEAKY_GRAD, { x, y, dy, mean, variance, weight }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { x: () => dx, weight: () => dw, bias: () => db };
    },
  });
}

/**
 * Training-mode BatchNorm + LeakyReLU of x [.., C] with the kernel: y and the batch mean and
 * biased variance. Null where the active backend has no such kernel (the caller composes).
 */
function batchNormLeakyKernel(
  x: tf.Tensor, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number, slope: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } | null {
  if (!useFused(BATCH_NORM_LEAKY) || x.dtype !== "float32" || !(slope >= 0) || x.size === 0) return null;
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_LEAKY, { x, weight, bias }, { eps, slope } as BatchNormLeakyAttrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * leakyRelu(batchNorm2d(x)): in training one fused kernel where the backend has it (module
 * comment), else the two ops (batchNorm2d is the composed reference).
 */
export function batchNormLeakyRelu(
  x: tf.Tensor4D,
  p: BatchNormParams,
  training: boolean,
  slope: number,
  { eps = 1e-5, momentum = 0.1 } = {},
): { y: tf.Tensor4D; newMean?: tf.Tensor1D; newVar?: tf.Tensor1D } {
  if (training) {
    const fused = batchNormLeakyKernel(x, p.weight, p.bias, eps, slope);
    if (fused) {
      const n = x.shape[0] * x.shape[1] * x.shape[2];
      return { y: fused.y as tf.Tensor4D, ...runningStatistics(p, fused.mean, fused.variance, n, momentum) };
    }
  }
  const r = batchNorm2d(x, p, training, { eps, momentum });
  return { ...r, y: tf.leakyRelu(r.y, slope) as tf.Tensor4D };
}
