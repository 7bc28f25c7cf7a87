/**
 * The student's BatchNorm (training mode, batch statistics) + LeakyReLU as one kernel:
 *   mean, var = per-channel moments of x (biased variance), invstd = 1 / sqrt(var + eps)
 *   y = leaky((x - mean) * invstd * w + b),  leaky(u) = u > 0 ? u : slope * u
 * Outputs y and the batch mean and variance (for the running statistics; no gradient flows
 * through those two outputs). The gradient is the closed form (lib/models/layers.ts) times
 * LeakyReLU's, in two passes over (x, y, dy).
 *
 * Composed from tfjs ops it is ~14 full-size passes forward and backward (mean, sub, square,
 * mean, mul, mul, add, leaky; step, mul, sums, sub, mul, ...), ~12% of a hidden-256 student step
 * on wasm; here 3 forward and 2 backward.
 *
 * Kernels: AstBatchNormLeaky ({x, weight, bias}, {eps, slope}) -> [y, mean, variance]
 *          AstBatchNormLeakyGrad ({x, y, dy, mean, variance, weight}, {eps, slope}) -> [dx, dw, db]
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelHost } from "../kernel_host.ts";
import type { FusedMath } from "./math.ts";
import { lastDim } from "./shapes.ts";
import { useFused } from "./state.ts";

export const BATCH_NORM_LEAKY = "AstBatchNormLeaky";
export const BATCH_NORM_LEAKY_GRAD = "AstBatchNormLeakyGrad";

type Info = tf.TensorInfo;
interface Attrs {
  eps: number;
  slope: number;
}

function invStd(variance: Float32Array, eps: number): Float32Array {
  return variance.map((v) => 1 / Math.sqrt(v + eps));
}

function checkChannels(kernel: string, x: Info, ...perChannel: Info[]): [number, number] {
  const c = lastDim(x);
  for (const t of perChannel) {
    if (t.shape.length !== 1 || t.shape[0] !== c) throw new Error(`${kernel}: [${t.shape}] is not one value per channel of [${x.shape}]`);
  }
  return [tf.util.sizeFromShape(x.shape) / Math.max(c, 1), c];
}

export function batchNormLeakyKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [BATCH_NORM_LEAKY]: ({ inputs, backend, attrs }) => {
      const { x, weight, bias } = inputs as Record<string, Info>;
      const { eps, slope } = attrs as unknown as Attrs;
      const [P, C] = checkChannels(BATCH_NORM_LEAKY, x, weight, bias);
      if (P === 0) throw new Error(`${BATCH_NORM_LEAKY}: empty batch [${x.shape}]`);
      const y = host.output(backend, x.shape, "float32");
      const mean = host.output(backend, [C], "float32");
      const variance = host.output(backend, [C], "float32");
      math.channelMoments(P, C, f32(backend, x), f32(backend, mean), f32(backend, variance));
      const inv = invStd(f32(backend, variance), eps);
      math.bnLeakyForward(P, C, f32(backend, x), f32(backend, mean), inv, f32(backend, weight), f32(backend, bias), slope, f32(backend, y));
      return [y, mean, variance];
    },
    [BATCH_NORM_LEAKY_GRAD]: ({ inputs, backend, attrs }) => {
      const { x, y, dy, mean, variance, weight } = inputs as Record<string, Info>;
      const { eps, slope } = attrs as unknown as Attrs;
      const [P, C] = checkChannels(BATCH_NORM_LEAKY_GRAD, x, mean, variance, weight);
      if (!tf.util.arraysEqual(x.shape, y.shape) || !tf.util.arraysEqual(x.shape, dy.shape)) {
        throw new Error(`${BATCH_NORM_LEAKY_GRAD}: x [${x.shape}], y [${y.shape}], dy [${dy.shape}] differ`);
      }
      const dx = host.output(backend, x.shape, "float32");
      const dw = host.output(backend, [C], "float32");
      const db = host.output(backend, [C], "float32");
      const inv = invStd(f32(backend, variance), eps);
      math.bnLeakyBackward(
        P, C, f32(backend, x), f32(backend, y), f32(backend, dy), f32(backend, mean), inv, f32(backend, weight), slope,
        f32(backend, dx), f32(backend, dw), f32(backend, db),
      );
      return [dx, dw, db];
    },
  };
}

export function registerBatchNormLeakyGradient(): void {
  tf.registerGradient({
    kernelName: BATCH_NORM_LEAKY,
    inputsToSave: ["x", "weight"],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy] = dys as tf.Tensor[];
      const [x, weight, y, mean, variance] = saved;
      // dx, dw and db share the first pass: run once here (module comment of coupling.ts).
      const [dx, dw, db] = tf.engine().runKernel(BATCH_NORM_LEAKY_GRAD, { x, y, dy, mean, variance, weight }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { x: () => dx, weight: () => dw, bias: () => db };
    },
  });
}

/**
 * Training-mode BatchNorm + LeakyReLU of x [.., C] with the kernel: y and the batch mean and
 * biased variance. Null where the active backend has no such kernel (the caller composes).
 */
export function batchNormLeaky(
  x: tf.Tensor, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number, slope: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } | null {
  if (!useFused(BATCH_NORM_LEAKY) || x.dtype !== "float32" || !(slope >= 0) || x.size === 0) return null;
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_LEAKY, { x, weight, bias }, { eps, slope } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
