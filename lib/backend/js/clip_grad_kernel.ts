/**
 * ClipByValue's gradient kernel (the op: lib/ops/clip_by_value_gradient.ts) for wasm and cpu:
 * dx = dy where lo <= x <= hi else 0; dy itself (shared) when nothing was clipped.
 */
import * as tf from "@tensorflow/tfjs-core";
import { CLIP_GRAD } from "../../ops/clip_by_value_gradient.ts";
import { type KernelHost, registerJsKernel } from "./kernel_host.ts";

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

/** Registers the kernel for wasm and cpu (idempotent). */
export function registerClipGradKernel(): void {
  registerJsKernel(CLIP_GRAD, clipGradKernel);
}
