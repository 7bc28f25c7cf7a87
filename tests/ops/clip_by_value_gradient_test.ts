/**
 * ClipByValue's gradient (lib/ops/clip_by_value_gradient.ts): with its kernel on wasm = the cpu
 * backend and = tfjs' own composed formula, values at the bounds kept; dy shared when nothing is
 * clipped.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertEquals } from "../assert.ts";
import { compareWithCpu, randn, setup, WASM_TEST } from "../backend/_helpers.ts";

Deno.test({
  name: "ClipByValue gradient kernel: = the composed where/logicalAnd gradient, values at the bounds kept",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const values = randn(2 * 3 * 4 * 5, 12).map((v) => v * 3);
    values[0] = -2; // exactly at the bounds: gradient passes
    values[1] = 2;
    await compareWithCpu("clipByValue", (x) => tf.clipByValue(x, -2, 2), [{ shape: [2, 3, 4, 5], values }]);
    // and against the shipped formula on the same backend
    const x = tf.tensor(values, [2, 3, 4, 5]), dy = tf.tensor(randn(values.length, 13), [2, 3, 4, 5]);
    const ours = tf.grad((t) => tf.clipByValue(t, -2, 2))(x, dy);
    const shipped = tf.where(tf.logicalAnd(tf.greaterEqual(x, -2), tf.lessEqual(x, 2)), dy, tf.zerosLike(dy));
    assertEquals(Array.from(await ours.data()), Array.from(await shipped.data()));
    tf.dispose([x, dy, ours, shipped]);
  },
});

Deno.test({
  name: "ClipByValue gradient: nothing clipped -> dy shared (values equal, no leak); after disposing dy the gradient keeps its values",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const before = tf.engine().backend.numDataIds();
    const x = tf.tensor([0.5, -1, 1.5], [3]), dy = tf.tensor([3, 4, 5], [3]);
    const g = tf.grad((t) => tf.clipByValue(t, -2, 2))(x, dy);
    tf.dispose([x, dy]);
    assertEquals(Array.from(await g.data()), [3, 4, 5]);
    g.dispose();
    assertEquals(tf.engine().backend.numDataIds(), before);
  },
});
