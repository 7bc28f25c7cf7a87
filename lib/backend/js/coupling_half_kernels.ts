/**
 * The coupling half's kernels (the op and its formula: lib/ops/coupling_half.ts) on a FusedMath:
 * one pass forward (y, the log-scale sum and the condition appended), one pass backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { COUPLING_HALF, COUPLING_HALF_GRAD, type CouplingHalfAttrs } from "../../ops/coupling_half.ts";
import { lastDim, pixels } from "../../ops/shapes.ts";
import type { KernelHost } from "./kernel_host.ts";
import type { FusedMath } from "./fused_math.ts";

type Info = tf.TensorInfo;

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

export function couplingHalfKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [COUPLING_HALF]: ({ inputs, backend, attrs }) => {
      const { o, x, cond } = inputs as { o: Info; x: Info; cond?: Info };
      const { xOffset, k } = attrs as unknown as CouplingHalfAttrs;
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
      const { xOffset, k } = attrs as unknown as CouplingHalfAttrs;
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
