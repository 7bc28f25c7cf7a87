/**
 * Edge padding of H and W (PyTorch padding_mode='replicate') as one kernel and one gradient
 * kernel, registered for the wasm and cpu backends. Composed from slices and concats (as
 * lib/models/layers.ts does on other backends) it costs 4 slices + 2 concats forward and 2
 * splits + adds backward per padded conv, ~300 ms of a hidden-64 teacher step on wasm; these are
 * two block-copy loops.
 *
 * Kernels: `ReplicatePad` (x [N,H,W,C], attrs {pad}) -> [N,H+2p,W+2p,C];
 *          `ReplicatePadGrad` (dy [N,H+2p,W+2p,C], attrs {pad}) -> dx [N,H,W,C], the sum of
 *          every padded copy of each input pixel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas, type KernelHost, type NumArray, registerJsKernel } from "./kernel_host.ts";
import { registeredFusedMath } from "./fused/state.ts";

export const REPLICATE_PAD = "ReplicatePad";
export const REPLICATE_PAD_GRAD = "ReplicatePadGrad";

type Shape4 = [number, number, number, number];

/** out [N,H+2p,W+2p,C] from x [N,H,W,C]. */
export function replicatePadValues(x: NumArray, [n, h, w, c]: Shape4, pad: number, out: NumArray): void {
  const wp = w + 2 * pad, hp = h + 2 * pad;
  for (let b = 0; b < n; b++) {
    for (let py = 0; py < hp; py++) {
      const iy = Math.min(h - 1, Math.max(0, py - pad));
      const src = ((b * h + iy) * w) * c, dst = ((b * hp + py) * wp) * c;
      const left = x.subarray(src, src + c), right = x.subarray(src + (w - 1) * c, src + w * c);
      for (let k = 0; k < pad; k++) {
        out.set(left, dst + k * c);
        out.set(right, dst + (pad + w + k) * c);
      }
      out.set(x.subarray(src, src + w * c), dst + pad * c);
    }
  }
}

/** dx [N,H,W,C] = sum of dy over the padded copies of each pixel (the adjoint of the pad). */
export function replicatePadGradValues(dy: Float32Array, [n, h, w, c]: Shape4, pad: number, dx: Float32Array): void {
  const wp = w + 2 * pad, hp = h + 2 * pad;
  for (let b = 0; b < n; b++) {
    // interior: one block copy per row
    for (let iy = 0; iy < h; iy++) {
      const s = ((b * hp + iy + pad) * wp + pad) * c;
      dx.set(dy.subarray(s, s + w * c), ((b * h + iy) * w) * c);
    }
    // padding: add each padded pixel onto the edge pixel it copies
    for (let py = 0; py < hp; py++) {
      const iy = Math.min(h - 1, Math.max(0, py - pad));
      const interiorRow = py >= pad && py < pad + h;
      const row = ((b * h + iy) * w) * c, src = ((b * hp + py) * wp) * c;
      for (let px = 0; px < wp; px++) {
        if (interiorRow && px >= pad && px < pad + w) continue;
        const ix = Math.min(w - 1, Math.max(0, px - pad));
        const d = row + ix * c, s = src + px * c;
        for (let k = 0; k < c; k++) dx[d + k] += dy[s + k];
      }
    }
  }
}

/** Both kernels run natively (float32) where the backend's fused kernels do (lib/backend/fused/). */
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

let registered = false;

/** Registers both kernels for wasm and cpu and the gradient (idempotent). */
export function registerReplicatePad(): void {
  if (registered) return;
  registered = true;
  registerJsKernel(REPLICATE_PAD, padKernel);
  registerJsKernel(REPLICATE_PAD_GRAD, padGradKernel);
  tf.registerGradient({
    kernelName: REPLICATE_PAD,
    gradFunc: (dy, _saved, attrs) => ({
      x: () => tf.engine().runKernel(REPLICATE_PAD_GRAD, { dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    }),
  });
}

/** True when the active backend has the kernel (otherwise compose from slices and concats). */
export function hasReplicatePadKernel(): boolean {
  return activeBackendHas(REPLICATE_PAD);
}

/** x [N,H,W,C] edge-padded by `pad` on H and W with the kernel. */
export function replicatePadKernel(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  return tf.engine().runKernel(REPLICATE_PAD, { x }, { pad } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
