/**
 * conv2dBias with a ReLU (the flow's subnets, lib/ops/conv2d_bias.ts): scoring runs the ReLU
 * inside the fused convolution kernel, training (gradients recorded) after it; both give the
 * values of relu(conv2dBias(...)), and the gradients are those of the composition.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertEquals } from "../assert.ts";
import { randn, setup } from "../backend/_helpers.ts";
import { conv2dBias } from "../../lib/ops/conv2d_bias.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({ name: "conv2dBias relu: fused when scoring, after the conv when recording gradients; same values and gradients as relu(conv2dBias)", ...opts, fn: async () => {
  await setup();
  for (const backend of ["wasm", "cpu"]) {
    await tf.setBackend(backend);
    for (const padding of ["replicate", "zeros"] as const) {
      const x = tf.tensor4d(randn(2 * 6 * 6 * 5, 71), [2, 6, 6, 5]);
      const w = tf.tensor4d(randn(3 * 3 * 5 * 7, 72).map((v) => 0.3 * v), [3, 3, 5, 7]);
      const b = tf.tensor1d(randn(7, 73));
      const label = `${backend} ${padding}`;
      const fused = tf.profile(() => tf.tidy(() => conv2dBias(x, w, b, padding, "relu")));
      const profile = await fused;
      const got = profile.result as tf.Tensor;
      const want = tf.tidy(() => tf.relu(conv2dBias(x, w, b, padding)));
      assertEquals(got.dataSync(), want.dataSync(), `${label}: values`);
      assertEquals(profile.kernelNames.includes("Relu"), false, `${label}: scoring ran a separate Relu: ${profile.kernelNames}`);
      const f = (act: "relu" | null) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(act ? conv2dBias(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, padding, "relu") : tf.relu(conv2dBias(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, padding)), tf.range(1, 7 * 36 * 2 + 1).reshape([2, 6, 6, 7])));
      const g1 = tf.grads(f("relu"))([x, w, b]), g2 = tf.grads(f(null))([x, w, b]);
      g1.forEach((g, i) => assertEquals(g.dataSync(), g2[i].dataSync(), `${label}: gradient ${i}`));
      tf.dispose([x, w, b, got, want, ...g1, ...g2]);
    }
  }
  await tf.setBackend("wasm");
}});
