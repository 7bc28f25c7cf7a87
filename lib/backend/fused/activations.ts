/**
 * EfficientNet's elementwise work as single-pass kernels: swish (x * sigmoid(x)), alone or with
 * the per-sample channel means the squeeze-excitation gate is computed from, in the same pass.
 * Composed on wasm these are sigmoid + multiply (two passes and a NaN scan) and a whole-map
 * average pool: with the gate's broadcasting multiply (now folded into the projection weights,
 * lib/features/efficientnet/model.ts) about 45% of a 768 px EfficientNet-B5 forward.
 *
 * Kernels: AstSwish ({x}) -> y;
 *          AstSwishMeans ({x [B,H,W,C]}) -> [swish(x), its channel means [B,C]].
 * Gradients are composed from tfjs ops (the backbone runs without gradients; they keep the ops
 * differentiable).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelHost } from "../kernel_host.ts";
import type { FusedMath } from "./math.ts";
import { lastDim, pixels } from "./shapes.ts";
import { useFused } from "./state.ts";

export const SWISH = "AstSwish";
export const SWISH_MEANS = "AstSwishMeans";

type Info = tf.TensorInfo;

/** [B, pixels per sample, C] of a [B, ..., C] tensor */
function samplePixelsChannels(shape: number[]): [number, number, number] {
  return [shape[0], pixels(shape.slice(1)), lastDim({ shape })];
}

export function activationKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [SWISH]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      const y = host.output(backend, x.shape, "float32");
      if (tf.util.sizeFromShape(x.shape) > 0) math.swish(f32(backend, x), f32(backend, y));
      return y;
    },
    [SWISH_MEANS]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      if (x.shape.length < 3) throw new Error(`${SWISH_MEANS}: [batch, ..., channels] expected, got [${x.shape}]`);
      const [B, P, C] = samplePixelsChannels(x.shape);
      if (P === 0) throw new Error(`${SWISH_MEANS}: no pixels in [${x.shape}]`);
      const y = host.output(backend, x.shape, "float32");
      const means = host.output(backend, [B, C], "float32");
      if (B * C > 0) math.swishMeans(B, P, C, f32(backend, x), f32(backend, y), f32(backend, means));
      return [y, means];
    },
  };
}

/** d swish / dx = s (1 + x (1 - s)), s = sigmoid(x) */
function swishDerivative(x: tf.Tensor): tf.Tensor {
  const s = tf.sigmoid(x);
  return tf.mul(s, tf.add(1, tf.mul(x, tf.sub(1, s))));
}

export function registerActivationGradients(): void {
  tf.registerGradient({
    kernelName: SWISH,
    inputsToSave: ["x"],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, swishDerivative(x)) }),
  });
  tf.registerGradient({
    kernelName: SWISH_MEANS,
    inputsToSave: ["x"],
    gradFunc: (dys, [x]) => {
      const [dy, dMeans] = dys as tf.Tensor[];
      const [B, H, W, C] = x.shape;
      // the means' gradient spreads evenly over the pixels they average
      return { x: () => tf.mul(tf.add(dy, tf.div(tf.reshape(dMeans, [B, 1, 1, C]), H * W)), swishDerivative(x)) };
    },
  });
}

/** x * sigmoid(x). */
export function swish(x: tf.Tensor4D): tf.Tensor4D {
  if (useFused(SWISH) && x.dtype === "float32") return tf.engine().runKernel(SWISH, { x }) as tf.Tensor4D;
  return tf.mul(x, tf.sigmoid(x)) as tf.Tensor4D;
}

/** swish(x) and its per-sample channel means [B,C], in one pass where the backend has the kernel. */
export function swishWithMeans(x: tf.Tensor4D): { y: tf.Tensor4D; means: tf.Tensor2D } {
  if (useFused(SWISH_MEANS) && x.dtype === "float32") {
    const [y, means] = tf.engine().runKernel(SWISH_MEANS, { x }) as tf.Tensor[];
    return { y: y as tf.Tensor4D, means: means as tf.Tensor2D };
  }
  const y = swish(x);
  return { y, means: channelMeans(y) };
}

/**
 * Mean over H and W -> [B,C] as a whole-map average pool: 3-4x faster than tf.mean on wasm (a
 * matmul with a 1/HW row is as fast in isolation, but XNNPACK repacks the big operand as
 * "weights" for every new tensor).
 */
export function channelMeans(x: tf.Tensor4D): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.avgPool(x, [h, w], 1, "valid"), [n, c]);
}
