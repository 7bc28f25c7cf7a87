/**
 * End to end: three Adam steps (written out with tensor ops, so both backends run the same
 * program) of a tiny conv net using every training kernel added for wasm. Parameters and losses
 * after the steps must match the cpu backend: |wasm - cpu| <= 1e-4 x max(1, max|cpu|) or 1e-3
 * relative (Adam divides by sqrt(v), which amplifies float32 summation-order noise a little).
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertClose } from "../assert.ts";
import { randn, setup, WASM_TEST } from "./_helpers.ts";

const SHAPES: Record<string, number[]> = {
  w1: [3, 3, 3, 8], b1: [8], dw: [3, 3, 8, 1], w2: [1, 1, 8, 6], w3: [3, 3, 3, 4],
};

function forward(p: Record<string, tf.Tensor>, x: tf.Tensor4D): tf.Tensor4D {
  let h = tf.relu(tf.add(tf.conv2d(x, p.w1 as tf.Tensor4D, 1, "same"), p.b1)) as tf.Tensor4D;
  h = tf.depthwiseConv2d(h, p.dw as tf.Tensor4D, 2, "same");
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.leakyRelu(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), 0.1) as tf.Tensor4D;
  h = tf.conv2d(h, p.w2 as tf.Tensor4D, 1, "valid");
  h = tf.gather(h, tf.tensor1d([0, 2, 5], "int32"), 3) as tf.Tensor4D;
  h = tf.image.resizeBilinear(h, [8, 8], false, true);
  return tf.conv2d(tf.tanh(h), p.w3 as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
}

async function train(backendName: string): Promise<{ losses: number[]; params: Record<string, Float32Array> }> {
  await tf.setBackend(backendName);
  const x = tf.tensor4d(randn(2 * 8 * 8 * 3, 3), [2, 8, 8, 3]);
  const target = tf.tensor4d(randn(2 * 4 * 4 * 4, 4), [2, 4, 4, 4]);
  const params: Record<string, tf.Variable> = {};
  const m: Record<string, tf.Variable> = {};
  const v: Record<string, tf.Variable> = {};
  tf.tidy(() => { // variables outlive the tidy; their initialisers do not
    Object.entries(SHAPES).forEach(([name, shape], i) => {
      const init = tf.mul(tf.tensor(randn(tf.util.sizeFromShape(shape), 10 + i), shape), 0.3);
      params[name] = tf.variable(init, true, `${backendName}_${name}`);
      m[name] = tf.variable(tf.zerosLike(init), false);
      v[name] = tf.variable(tf.zerosLike(init), false);
    });
  });
  const [lr, beta1, beta2, eps] = [0.01, 0.9, 0.999, 1e-6];
  const losses: number[] = [];
  for (let step = 1; step <= 3; step++) {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(forward(params, x), target))) as tf.Scalar);
      losses.push(value.dataSync()[0]);
      for (const name of Object.keys(params)) {
        const g = grads[params[name].name];
        m[name].assign(tf.add(tf.mul(m[name], beta1), tf.mul(g, 1 - beta1)));
        v[name].assign(tf.add(tf.mul(v[name], beta2), tf.mul(tf.square(g), 1 - beta2)));
        const mHat = tf.div(m[name], 1 - beta1 ** step);
        const vHat = tf.div(v[name], 1 - beta2 ** step);
        params[name].assign(tf.sub(params[name], tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), eps)))));
      }
    });
  }
  const out: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params)) out[name] = (await p.data()) as Float32Array;
  tf.dispose([x, target, ...Object.values(params), ...Object.values(m), ...Object.values(v)]);
  return { losses, params: out };
}

Deno.test({
  name: "3 Adam steps of a tiny conv net: wasm matches cpu (losses and parameters)",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const ref = await train("cpu");
    const before = tf.memory().numTensors;
    const got = await train("wasm");
    if (tf.memory().numTensors !== before) throw new Error(`wasm training leaked ${tf.memory().numTensors - before} tensors`);
    assertClose(got.losses, ref.losses, { atol: 1e-4, rtol: 1e-3, what: "losses" });
    if (!(ref.losses[2] < ref.losses[0])) throw new Error(`loss did not decrease: ${ref.losses}`);
    for (const name of Object.keys(SHAPES)) {
      const scale = Math.max(1, ...Array.from(ref.params[name], Math.abs));
      assertClose(got.params[name], ref.params[name], { atol: 1e-4 * scale, rtol: 1e-3, what: `param ${name}` });
    }
  },
});
