/**
 * The BatchNorm + LeakyReLU kernels (the op and its formula: lib/ops/batch_norm_leaky_relu.ts) on
 * a FusedMath: moments and the normalised, activated output forward (3 passes), the closed-form
 * gradient backward (2 passes).
 */
import * as tf from "@tensorflow/tfjs-core";
import { BATCH_NORM_LEAKY, BATCH_NORM_LEAKY_GRAD, type BatchNormLeakyAttrs } from "../../ops/batch_norm_leaky_relu.ts";
import { lastDim } from "../../ops/shapes.ts";
import type { KernelHost } from "./kernel_host.ts";
import type { FusedMath } from "./fused_math.ts";

type Info = tf.TensorInfo;

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
      const { eps, slope } = attrs as unknown as BatchNormLeakyAttrs;
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
      const { eps, slope } = attrs as unknown as BatchNormLeakyAttrs;
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
