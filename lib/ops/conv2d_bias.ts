/** The convolution of the flow's subnets and the student (NHWC, kernels HWIO). */
import * as tf from "@tensorflow/tfjs-core";
import { replicatePad } from "./replicate_pad.ts";

/**
 * Stride-1 convolution with bias, then `activation` ("linear" by default, or "relu");
 * 'zeros' = PyTorch padding k//2, 'replicate' = edge padding. One fused op: the native wasm
 * kernels add the bias inside the convolution and, outside gradient recording (scoring), apply
 * the ReLU in place on its fresh output (lib/backend/native/kernels.ts): one kernel call less.
 * The values are the same either way.
 */
export function conv2dBias(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D,
  padding: "zeros" | "replicate",
  activation: "linear" | "relu" = "linear",
): tf.Tensor4D {
  const k = weight.shape[0];
  const p = Math.floor(k / 2);
  // recording gradients, tfjs would run a fused activation as conv, add and activation: keep the
  // conv-with-bias kernel and apply the ReLU after it
  const fused = tf.engine().state.gradientDepth > 0 ? "linear" : activation;
  const y = padding === "replicate"
    ? tf.fused.conv2d({ x: replicatePad(x, p), filter: weight, strides: 1, pad: "valid", bias, activation: fused })
    : tf.fused.conv2d({ x, filter: weight, strides: 1, pad: [[0, 0], [p, p], [p, p], [0, 0]], bias, activation: fused });
  return activation === "relu" && fused === "linear" ? tf.relu(y) : y;
}
