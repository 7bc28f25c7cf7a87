/**
 * Edge padding of H and W (PyTorch padding_mode='replicate') as one op with one gradient.
 * Composed from slices and concats it costs 4 slices + 2 concats forward and 2 splits + adds
 * backward per padded conv, ~300 ms of a hidden-64 teacher step on wasm; the kernels
 * (lib/backend/js/replicate_pad_kernels.ts, on wasm and cpu) are two block-copy loops.
 *
 * Kernels: `ReplicatePad` (x [N,H,W,C], attrs {pad}) -> [N,H+2p,W+2p,C];
 *          `ReplicatePadGrad` (dy [N,H+2p,W+2p,C], attrs {pad}) -> dx [N,H,W,C], the sum of
 *          every padded copy of each input pixel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas } from "./fused_switch.ts";

export const REPLICATE_PAD = "ReplicatePad";
export const REPLICATE_PAD_GRAD = "ReplicatePadGrad";

/** ReplicatePad's gradient: the gradient kernel. */
export function registerReplicatePadGradient(): void {
  tf.registerGradient({
    kernelName: REPLICATE_PAD,
    gradFunc: (dy, _saved, attrs) => ({
      x: () => tf.engine().runKernel(REPLICATE_PAD_GRAD, { dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    }),
  });
}

/**
 * Pads H and W by repeating edge pixels (PyTorch padding_mode='replicate'): the kernel where the
 * active backend has it (not subject to setFusedOps: it is exact either way), else composed.
 */
export function replicatePad(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  if (pad === 0) return x;
  if (activeBackendHas(REPLICATE_PAD)) return replicatePadKernel(x, pad);
  return replicatePadComposed(x, pad);
}

/** x [N,H,W,C] edge-padded by `pad` on H and W with the kernel (the active backend must have it). */
export function replicatePadKernel(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  return tf.engine().runKernel(REPLICATE_PAD, { x }, { pad } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The same from slices and concats, for backends without the kernel (the reference in tests). */
export function replicatePadComposed(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  if (pad === 0) return x;
  const [, h, w] = x.shape;
  const top = tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]);
  const bottom = tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1]);
  const rows = tf.concat([...Array(pad).fill(top), x, ...Array(pad).fill(bottom)], 1);
  const left = tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1]);
  const right = tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1]);
  return tf.concat([...Array(pad).fill(left), rows, ...Array(pad).fill(right)], 2) as tf.Tensor4D;
}
