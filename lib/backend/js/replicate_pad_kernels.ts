/**
 * The edge-padding kernels (the op: lib/ops/replicate_pad.ts) for the wasm and cpu backends: two
 * block-copy loops (pad_loops.ts), run natively (float32) where the backend's fused kernels do.
 */
import * as tf from "@tensorflow/tfjs-core";
import { REPLICATE_PAD, REPLICATE_PAD_GRAD } from "../../ops/replicate_pad.ts";
import { type KernelHost, registerJsKernel } from "./kernel_host.ts";
import { registeredFusedMath } from "./fused_state.ts";
import { replicatePadGradValues, replicatePadValues, type Shape4 } from "./pad_loops.ts";

function padKernel(host: KernelHost, backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as tf.TensorInfo;
    const pad = (attrs as { pad: number }).pad;
    const [n, h, w, c] = x.shape as Shape4;
    if (x.dtype !== "float32" && x.dtype !== "int32") throw new Error(`${REPLICATE_PAD}: dtype ${x.dtype} not supported`);
    const out = host.output(backend, [n, h + 2 * pad, w + 2 * pad, c], x.dtype);
    if (tf.util.sizeFromShape(x.shape) === 0) return out;
    const native = registeredFusedMath(backendName);
    if (native && x.dtype === "float32") {
      native.replicatePad([n, h, w, c], pad, host.values(backend, x) as Float32Array, host.values(backend, out) as Float32Array);
    } else {
      replicatePadValues(host.values(backend, x), [n, h, w, c], pad, host.values(backend, out));
    }
    return out;
  };
}

function padGradKernel(host: KernelHost, backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const dy = inputs.dy as tf.TensorInfo;
    const pad = (attrs as { pad: number }).pad;
    const [n, hp, wp, c] = dy.shape as Shape4;
    const shape: Shape4 = [n, hp - 2 * pad, wp - 2 * pad, c];
    const out = host.output(backend, shape, "float32");
    if (tf.util.sizeFromShape(shape) > 0) {
      const grad = registeredFusedMath(backendName)?.replicatePadGrad ?? ((s, p, d, o) => replicatePadGradValues(d, s, p, o));
      grad(shape, pad, host.values(backend, dy) as Float32Array, host.values(backend, out) as Float32Array);
    }
    return out;
  };
}

/** Registers both kernels for wasm and cpu (idempotent). */
export function registerReplicatePadKernels(): void {
  registerJsKernel(REPLICATE_PAD, padKernel);
  registerJsKernel(REPLICATE_PAD_GRAD, padGradKernel);
}
