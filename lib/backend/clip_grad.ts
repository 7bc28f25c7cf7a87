/**
 * ClipByValue's gradient, dx = dy where lo <= x <= hi else 0, as one kernel (wasm and cpu). The
 * shipped gradient composes GreaterEqual, LessEqual, LogicalAnd, ZerosLike and Select: five
 * scalar wasm kernels, ~110 ms per hidden-64 teacher step (its couplings clip every output).
 * Backends without the kernel keep that composition. NaN in x gives 0, as there.
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas, type KernelHost, registerJsKernel } from "./kernel_host.ts";

export const CLIP_GRAD = "AstClipByValueGrad";

function clipGradKernel(host: KernelHost): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Record<string, tf.TensorInfo>;
    const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
    // Usually nothing was clipped (the flow clips at +-1e6): then dx is dy itself, shared.
    const xs = host.values(backend, x);
    let inside = true;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (!(v >= lo && v <= hi)) {
        inside = false;
        break;
      }
    }
    if (inside) return host.share(backend, dy);
    const out = host.output(backend, dy.shape, "float32");
    const xv = host.values(backend, x), dv = host.values(backend, dy), ov = host.values(backend, out);
    for (let i = 0; i < ov.length; i++) {
      const v = xv[i];
      ov[i] = v >= lo && v <= hi ? dv[i] : 0;
    }
    return out;
  };
}

let registered = false;

/** The kernel for wasm and cpu, and ClipByValue's gradient using it where the backend has it. */
export function registerClipGradient(): void {
  if (registered) return;
  registered = true;
  registerJsKernel(CLIP_GRAD, clipGradKernel);
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
      return { x: () => tf.where(tf.logicalAnd(tf.greaterEqual(x, lo), tf.lessEqual(x, hi)), d, tf.zerosLike(d)) };
    },
  });
}
