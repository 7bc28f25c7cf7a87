/**
 * ClipByValue's gradient, dx = dy where lo <= x <= hi else 0, as one kernel where the active
 * backend has it (wasm and cpu: lib/backend/js/clip_grad_kernel.ts). The shipped gradient
 * composes GreaterEqual, LessEqual, LogicalAnd, ZerosLike and Select: five scalar wasm kernels,
 * ~110 ms per hidden-64 teacher step (its couplings clip every output). Backends without the
 * kernel keep that composition. NaN in x gives 0, as there.
 *
 * Kernel: AstClipByValueGrad ({x, dy}, {clipValueMin, clipValueMax}) -> dx
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas } from "./fused_switch.ts";

export const CLIP_GRAD = "AstClipByValueGrad";

/** Replaces ClipByValue's gradient (tfjs' own must be registered first: training_gradients.ts). */
export function registerClipByValueGradient(): void {
  tf.registerGradient({
    kernelName: "ClipByValue",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
      const d = dy as tf.Tensor;
      if (activeBackendHas(CLIP_GRAD) && x.dtype === "float32" && d.dtype === "float32") {
        return { x: () => tf.engine().runKernel(CLIP_GRAD, { x, dy: d }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor };
      }
      return { x: () => clipByValueGradientComposed(x, d, lo, hi) };
    },
  });
}

/** The gradient from tfjs ops: tfjs' own formula (the reference in tests). */
export function clipByValueGradientComposed(x: tf.Tensor, dy: tf.Tensor, lo: number, hi: number): tf.Tensor {
  return tf.where(tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)), dy, tf.zerosLike(dy));
}
