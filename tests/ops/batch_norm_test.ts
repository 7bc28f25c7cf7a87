/**
 * batchNorm2d's training path (own closed-form gradient) against the same maths composed from
 * tfjs ops and differentiated by autodiff: output, dx, dweight, dbias and the running statistics,
 * on the project's backend and on cpu.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert } from "../assert.ts";
import { batchNorm2d } from "../../lib/ops/batch_norm.ts";
import { initConformanceBackend } from "../models/_backend.ts";
import { randn } from "../backend/_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function composed(x: tf.Tensor4D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), w), b) as tf.Tensor4D;
}

function close(a: Float32Array, b: Float32Array, what: string, tol = 1e-4): void {
  let scale = 1;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) assert(Math.abs(a[i] - b[i]) <= tol * scale, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

Deno.test({ name: "batchNorm2d training: value, gradients and running statistics = composed ops + autodiff", ...opts, fn: async () => {
  await initConformanceBackend();
  const main = tf.getBackend();
  for (const backend of [main, "cpu"]) {
    await tf.setBackend(backend);
    const [n, h, w, c] = [3, 4, 5, 6];
    const x = tf.tensor4d(randn(n * h * w * c, 1).map((v, i) => v * (1 + (i % c)) + (i % c)), [n, h, w, c]);
    const weight = tf.tensor1d(randn(c, 2)), bias = tf.tensor1d(randn(c, 3));
    const dy = tf.tensor4d(randn(n * h * w * c, 4), [n, h, w, c]);
    const p = { weight, bias, runningMean: tf.variable(tf.zeros([c])), runningVar: tf.variable(tf.ones([c])) };
    const ours = tf.grads((a, b, d) => batchNorm2d(a as tf.Tensor4D, { ...p, weight: b as tf.Tensor1D, bias: d as tf.Tensor1D }, true).y);
    const ref = tf.grads((a, b, d) => composed(a as tf.Tensor4D, b as tf.Tensor1D, d as tf.Tensor1D, 1e-5));
    const g1 = ours([x, weight, bias], dy), g2 = ref([x, weight, bias], dy);
    const r = batchNorm2d(x, p, true);
    const y2 = composed(x, weight, bias, 1e-5);
    close(await r.y.data() as Float32Array, await y2.data() as Float32Array, `${backend} y`);
    for (const [i, name] of ["dx", "dweight", "dbias"].entries()) {
      close(await g1[i].data() as Float32Array, await g2[i].data() as Float32Array, `${backend} ${name}`);
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const cnt = n * h * w;
    close(await r.newMean!.data() as Float32Array, await tf.mul(mean, 0.1).data() as Float32Array, `${backend} running mean`);
    close(
      await r.newVar!.data() as Float32Array,
      await tf.add(0.9, tf.mul(variance, 0.1 * cnt / (cnt - 1))).data() as Float32Array,
      `${backend} running var`,
    );
    tf.dispose([x, weight, bias, dy, p.runningMean, p.runningVar, ...g1, ...g2, r.y, r.newMean!, r.newVar!, y2, mean, variance]);
  }
  await tf.setBackend(main);
} });
