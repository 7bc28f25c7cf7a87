/**
 * Training objectives and per-pixel distances of AST (NHWC; masks [B,H,W,1], soft, in [0,1]).
 * Averages run over all H x W positions (masked ones stay in the count) and then the batch,
 * as the official implementation does; no 1/D and no log(2 pi) in the NLL.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Teacher NLL per pixel: 0.5 * sum_c(m * z^2) - m * log|det J|  -> [B,H,W]. */
export function flowNllPerPixel(z: tf.Tensor4D, logDet: tf.Tensor3D, mask: tf.Tensor4D | null): tf.Tensor3D {
  if (!mask) return tf.sub(tf.mul(tf.sum(tf.square(z), 3), 0.5), logDet) as tf.Tensor3D;
  const m = tf.squeeze(mask, [3]);
  return tf.sub(tf.mul(tf.sum(tf.mul(tf.square(z), mask), 3), 0.5), tf.mul(logDet, m)) as tf.Tensor3D;
}

/** Student-teacher distance per pixel: mean_c(m * (zt - zs)^2) -> [B,H,W]. */
export function studentDistancePerPixel(zTeacher: tf.Tensor4D, zStudent: tf.Tensor4D, mask: tf.Tensor4D | null): tf.Tensor3D {
  const sq = tf.squaredDifference(zTeacher, zStudent);
  return tf.mean(mask ? tf.mul(sq, mask) : sq, 3) as tf.Tensor3D;
}

/** Per-sample mean over the map: [B,H,W] -> [B]. */
export function perSample(perPixel: tf.Tensor3D): tf.Tensor1D {
  return tf.mean(perPixel, [1, 2]) as tf.Tensor1D;
}

/** Scalar loss: mean over positions, then over the batch. */
export function meanLoss(perPixel: tf.Tensor3D): tf.Scalar {
  return tf.mean(perPixel) as tf.Scalar;
}
