/** BatchNorm2d as PyTorch computes it (NHWC, per-channel parameters), with its own gradient. */
import * as tf from "@tensorflow/tfjs-core";

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
 *
 * The training path has its own gradient (the standard closed form, as PyTorch's kernel):
 *   dx = w/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)),  dw = sum(dy * xhat),  db = sum(dy)
 * 5 full-size passes backward instead of the ~15 autodiff makes of the composed ops; the
 * per-channel sums are single SGEMV calls on the wasm backend (lib/backend/native/kernels.ts).
 * The composed reference of batchNormLeakyRelu (batch_norm_leaky_relu.ts).
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
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const axes = [0, 1, 2];
  // The batch statistics, for the running averages: computed in the forward pass (no gradient).
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const normalise = tf.customGrad((...args) => {
    const [input, weight, bias] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as unknown as tf.GradSaveFunc;
    const [mean, variance, invStd, xhat, y] = tf.tidy(() => {
      const mean = tf.mean(input, axes) as tf.Tensor1D;
      const centred = tf.sub(input, mean);
      const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
      const invStd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
      const xhat = tf.mul(centred, invStd) as tf.Tensor4D;
      return [mean, variance, invStd, xhat, tf.add(tf.mul(xhat, weight), bias) as tf.Tensor4D];
    });
    save([xhat, invStd, weight]);
    // tfjs runs this forward inside a tidy: keep the statistics, released below
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, w] = saved;
        const db = tf.sum(dy, axes);
        const dw = tf.sum(tf.mul(dy, xh), axes);
        const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(db, n)), tf.mul(xh, tf.div(dw, n))), tf.mul(w, inv));
        return [dx, dw, db];
      },
    };
  });
  const y = normalise(x, p.weight, p.bias) as tf.Tensor4D;
  const { mean, variance } = stats!;
  return { y, ...runningStatistics(p, mean, variance, n, momentum) };
}

/** PyTorch's running-average update (momentum on the unbiased variance); disposes mean and variance. */
export function runningStatistics(
  p: BatchNormParams, mean: tf.Tensor1D, variance: tf.Tensor1D, n: number, momentum: number,
): { newMean: tf.Tensor1D; newVar: tf.Tensor1D } {
  const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
  const newMean = tf.add(tf.mul(p.runningMean, 1 - momentum), tf.mul(mean, momentum)) as tf.Tensor1D;
  const newVar = tf.add(tf.mul(p.runningVar, 1 - momentum), tf.mul(unbiased, momentum)) as tf.Tensor1D;
  tf.dispose([mean, variance]);
  return { newMean, newVar };
}
