/**
 * One half of the flow's affine coupling as one op. From the subnet output o = [r, t]
 * (2n channels: the scale logits, already divided by the soft-clamp alpha, then the shifts):
 *   l = k * atan(r)  (k = alpha * 0.636),  y = exp(l) * x + t,  logScaleSum = sum_c l
 * with x = channels [xOffset, xOffset + n) of `x`; `cond` (the positional encoding), when
 * given, is appended after y, so the output is directly the next subnet's input.
 *
 * Composed from tfjs ops this is split, atan, multiply, exp, multiply, add, sum and concat
 * forward, about twice that backward, each a full-size pass (about 25% of a hidden-64 teacher
 * step on wasm); the kernels (lib/backend/js/coupling_half_kernels.ts) make one pass each way.
 *
 * Kernels: AstCouplingHalf ({o, x, cond?}, {xOffset, k}) -> [y [.., n + pe], logScaleSum [..]]
 *          AstCouplingHalfGrad ({o, x, dy, dls}, {xOffset, k}) -> [do, dx (x's shape)]
 */
import * as tf from "@tensorflow/tfjs-core";
import { useFused } from "./fused_switch.ts";
import { lastDim } from "./shapes.ts";

export const COUPLING_HALF = "AstCouplingHalf";
export const COUPLING_HALF_GRAD = "AstCouplingHalfGrad";

/** The attributes both kernels take. */
export interface CouplingHalfAttrs {
  xOffset: number;
  k: number;
}

/** AstCouplingHalf's gradient: the gradient kernel, one pass for both inputs. */
export function registerCouplingHalfGradient(): void {
  tf.registerGradient({
    kernelName: COUPLING_HALF,
    inputsToSave: ["o", "x"],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dls] = dys as tf.Tensor[];
      const [o, x] = saved;
      // Both input gradients come from one pass, run here once (tensors made here live until the
      // end of the backward pass, as every gradient does).
      const [dO, dX] = tf.engine().runKernel(COUPLING_HALF_GRAD, { o, x, dy, dls }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const n = lastDim(o) / 2;
      return {
        o: () => dO,
        x: () => dX,
        cond: () => tf.slice(dy, [0, 0, 0, n], [-1, -1, -1, -1]),
      };
    },
  });
}

/**
 * The coupling half (module comment) on [B,H,W,C] tensors: y [B,H,W,n (+ pe)] and the per-pixel
 * sum of the log-scales [B,H,W]. A fused kernel where the backend has one, else tfjs ops.
 */
export function couplingHalf(
  o: tf.Tensor4D, x: tf.Tensor4D, xOffset: number, k: number, cond: tf.Tensor4D | null,
): { y: tf.Tensor4D; logScaleSum: tf.Tensor3D } {
  if (useFused(COUPLING_HALF) && o.dtype === "float32" && x.dtype === "float32") {
    const inputs: tf.NamedTensorMap = cond ? { o, x, cond } : { o, x };
    const [y, logScaleSum] = tf.engine().runKernel(COUPLING_HALF, inputs, { xOffset, k } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { y: y as tf.Tensor4D, logScaleSum: logScaleSum as tf.Tensor3D };
  }
  return couplingHalfComposed(o, x, xOffset, k, cond);
}

/** The same from tfjs ops (backends without the kernel; the reference in tests). */
export function couplingHalfComposed(
  o: tf.Tensor4D, x: tf.Tensor4D, xOffset: number, k: number, cond: tf.Tensor4D | null,
): { y: tf.Tensor4D; logScaleSum: tf.Tensor3D } {
  const n = o.shape[3] / 2;
  const [r, t] = tf.split(o, 2, 3);
  const xPart = xOffset === 0 && x.shape[3] === n ? x : tf.slice(x, [0, 0, 0, xOffset], [-1, -1, -1, n]);
  const logScale = tf.mul(tf.atan(r), k);
  const y = tf.add(tf.mul(tf.exp(logScale), xPart), t) as tf.Tensor4D;
  return { y: cond ? tf.concat([y, cond], 3) : y, logScaleSum: tf.sum(logScale, 3) as tf.Tensor3D };
}
