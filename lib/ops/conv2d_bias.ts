/** The convolution of the flow's subnets and the student (NHWC, kernels HWIO). */
import * as tf from "@tensorflow/tfjs-core";
import { replicatePad } from "./replicate_pad.ts";

/**
 * Stride-1 convolution with bias; 'zeros' = PyTorch padding k//2, 'replicate' = edge padding.
 * One fused op: the native wasm kernels add the bias inside the convolution
 * (lib/backend/native/kernels.ts). (An activation is applied separately: tfjs does not fuse a
 * non-linear activation while recording gradients anyway.)
 */
export function conv2dBias(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D,
  padding: "zeros" | "replicate",
): tf.Tensor4D {
  const k = weight.shape[0];
  const p = Math.floor(k / 2);
  return padding === "replicate"
    ? tf.fused.conv2d({ x: replicatePad(x, p), filter: weight, strides: 1, pad: "valid", bias })
    : tf.fused.conv2d({ x, filter: weight, strides: 1, pad: [[0, 0], [p, p], [p, p], [0, 0]], bias });
}
