/**
 * EfficientNet's elementwise work as single-pass ops: swish (x * sigmoid(x)), alone or with the
 * per-sample channel means the squeeze-excitation gate is computed from, in the same pass.
 * Composed on wasm these are sigmoid + multiply (two passes and a NaN scan) and a whole-map
 * average pool: with the gate's broadcasting multiply (now folded into the projection weights,
 * lib/features/efficientnet/model.ts) about 45% of a 768 px EfficientNet-B5 forward.
 *
 * Kernels (lib/backend/js/swish_kernels.ts):
 *   AstSwish ({x}) -> y;
 *   AstSwishMeans ({x [B,H,W,C]}) -> [swish(x), its channel means [B,C]].
 * Gradients are composed from tfjs ops (the backbone runs without gradients; they keep the ops
 * differentiable).
 */
import * as tf from "@tensorflow/tfjs-core";
import { useFused } from "./fused_switch.ts";

export const SWISH = "AstSwish";
export const SWISH_MEANS = "AstSwishMeans";

/** d swish / dx = s (1 + x (1 - s)), s = sigmoid(x) */
function swishDerivative(x: tf.Tensor): tf.Tensor {
  const s = tf.sigmoid(x);
  return tf.mul(s, tf.add(1, tf.mul(x, tf.sub(1, s))));
}

/** The two kernels' gradients, composed from tfjs ops. */
export function registerSwishGradients(): void {
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
  return swishComposed(x);
}

/** The same from tfjs ops (backends without the kernel; the reference in tests). */
export function swishComposed(x: tf.Tensor4D): tf.Tensor4D {
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

/** The same from tfjs ops (the reference in tests). */
export function swishWithMeansComposed(x: tf.Tensor4D): { y: tf.Tensor4D; means: tf.Tensor2D } {
  const y = swishComposed(x);
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
