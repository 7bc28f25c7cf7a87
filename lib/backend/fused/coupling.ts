/**
 * One half of the flow's affine coupling as one kernel. From the subnet output o = [r, t]
 * (2n channels: the scale logits, already divided by the soft-clamp alpha, then the shifts):
 *   l = k * atan(r)  (k = alpha * 0.636),  y = exp(l) * x + t,  logScaleSum = sum_c l
 * with x = channels [xOffset, xOffset + n) of `x`; `cond` (the positional encoding), when
 * given, is appended after y, so the output is directly the next subnet's input.
 *
 * Composed from tfjs ops this is split, atan, multiply, exp, multiply, add, sum and concat
 * forward, about twice that backward, each a full-size pass (about 25% of a hidden-64 teacher
 * step on wasm); here one pass each way.
 *
 * Kernels: AstCouplingHalf ({o, x, cond?}, {xOffset, k}) -> [y [.., n + pe], logScaleSum [..]]
 *          AstCouplingHalfGrad ({o, x, dy, dls}, {xOffset, k}) -> [do, dx (x's shape)]
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelHost } from "../kernel_host.ts";
import type { FusedMath } from "./math.ts";
import { lastDim, pixels } from "./shapes.ts";
import { useFused } from "./state.ts";

export const COUPLING_HALF = "AstCouplingHalf";
export const COUPLING_HALF_GRAD = "AstCouplingHalfGrad";

type Info = tf.TensorInfo;
interface CouplingAttrs {
  xOffset: number;
  k: number;
}

function checkShapes(o: Info, x: Info, xOffset: number): number {
  const c = lastDim(o);
  const n = c / 2;
  if (!Number.isInteger(n) || o.shape.length !== x.shape.length || pixels(o.shape) !== pixels(x.shape)) {
    throw new Error(`${COUPLING_HALF}: subnet output [${o.shape}] and input [${x.shape}] do not match`);
  }
  if (xOffset < 0 || xOffset + n > lastDim(x)) {
    throw new Error(`${COUPLING_HALF}: channels [${xOffset}, ${xOffset + n}) outside input [${x.shape}]`);
  }
  return n;
}

export function couplingKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [COUPLING_HALF]: ({ inputs, backend, attrs }) => {
      const { o, x, cond } = inputs as { o: Info; x: Info; cond?: Info };
      const { xOffset, k } = attrs as unknown as CouplingAttrs;
      const n = checkShapes(o, x, xOffset);
      const pe = cond ? lastDim(cond) : 0;
      if (cond && pixels(cond.shape) !== pixels(o.shape)) throw new Error(`${COUPLING_HALF}: condition [${cond.shape}] does not match [${o.shape}]`);
      const P = pixels(o.shape);
      const y = host.output(backend, [...o.shape.slice(0, -1), n + pe], "float32");
      const ls = host.output(backend, o.shape.slice(0, -1), "float32");
      if (P === 0) return [y, ls];
      const xs = lastDim(x);
      math.couplingForward(P, n, f32(backend, o), f32(backend, x), xs, xOffset, k, f32(backend, y), n + pe, f32(backend, ls));
      if (cond && pe > 0) math.gatherChannels(P, pe, f32(backend, cond), pe, 0, null, f32(backend, y), n + pe, n);
      return [y, ls];
    },
    [COUPLING_HALF_GRAD]: ({ inputs, backend, attrs }) => {
      const { o, x, dy, dls } = inputs as Record<string, Info>;
      const { xOffset, k } = attrs as unknown as CouplingAttrs;
      const n = checkShapes(o, x, xOffset);
      const P = pixels(o.shape);
      // the native loop reads n channels of dy and one value of dls per pixel
      if (pixels(dy.shape) !== P || lastDim(dy) < n || tf.util.sizeFromShape(dls.shape) !== P) {
        throw new Error(`${COUPLING_HALF_GRAD}: gradients [${dy.shape}], [${dls.shape}] do not match [${o.shape}]`);
      }
      const dout = host.output(backend, o.shape, "float32");
      const dx = host.output(backend, x.shape, "float32");
      if (P === 0) return [dout, dx];
      const xs = lastDim(x), dys = lastDim(dy);
      math.couplingBackward(
        P, n, f32(backend, o), f32(backend, x), xs, xOffset, k, f32(backend, dy), dys, f32(backend, dls),
        f32(backend, dout), f32(backend, dx), xs, xOffset,
      );
      return [dout, dx];
    },
  };
}

export function registerCouplingGradient(): void {
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
