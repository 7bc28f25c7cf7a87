/** Small pure tensor functions shared by the flow and the student (NHWC, kernels HWIO). */
import * as tf from "@tensorflow/tfjs-core";

/** Pads H and W by repeating edge pixels (PyTorch padding_mode='replicate'). */
export function replicatePad(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  if (pad === 0) return x;
  const [, h, w] = x.shape;
  const top = tf.slice(x, [0, 0, 0, 0], [-1, 1, -1, -1]);
  const bottom = tf.slice(x, [0, h - 1, 0, 0], [-1, 1, -1, -1]);
  const rows = tf.concat([...Array(pad).fill(top), x, ...Array(pad).fill(bottom)], 1);
  const left = tf.slice(rows, [0, 0, 0, 0], [-1, -1, 1, -1]);
  const right = tf.slice(rows, [0, 0, w - 1, 0], [-1, -1, 1, -1]);
  return tf.concat([...Array(pad).fill(left), rows, ...Array(pad).fill(right)], 2) as tf.Tensor4D;
}

/** Stride-1 convolution with bias; 'zeros' = PyTorch padding k//2, 'replicate' = edge padding. */
export function conv2dBias(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D,
  padding: "zeros" | "replicate",
): tf.Tensor4D {
  const k = weight.shape[0];
  const p = Math.floor(k / 2);
  const y = padding === "replicate"
    ? tf.conv2d(replicatePad(x, p), weight, 1, "valid")
    : tf.conv2d(x, weight, 1, [[0, 0], [p, p], [p, p], [0, 0]]);
  return tf.add(y, bias);
}

export interface BatchNormParams {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/**
 * BatchNorm2d with PyTorch semantics. Training: normalise with the batch's biased variance and
 * return the new running statistics (momentum on the unbiased variance) for the caller to
 * assign outside any gradient tape. Eval: running statistics.
 */
export function batchNorm2d(
  x: tf.Tensor4D,
  p: BatchNormParams,
  training: boolean,
  { eps = 1e-5, momentum = 0.1 } = {},
): { y: tf.Tensor4D; newMean?: tf.Tensor1D; newVar?: tf.Tensor1D } {
  if (!training) {
    return { y: tf.batchNorm(x, p.runningMean as tf.Tensor1D, p.runningVar as tf.Tensor1D, p.bias, p.weight, eps) };
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), p.weight), p.bias) as tf.Tensor4D;
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
  const newMean = tf.add(tf.mul(p.runningMean, 1 - momentum), tf.mul(mean, momentum)) as tf.Tensor1D;
  const newVar = tf.add(tf.mul(p.runningVar, 1 - momentum), tf.mul(unbiased, momentum)) as tf.Tensor1D;
  return { y, newMean, newVar };
}
