/**
 * The flow's fixed channel permutation (lib/models/flow/channel_permutation.ts) on wasm: its
 * inverse-permutation gradient equals the gather gradient, and its inverse follows a newly
 * assigned permutation.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertEquals } from "../assert.ts";
import { randn, setup, WASM_TEST } from "../backend/_helpers.ts";
import { ChannelPermutation } from "../../lib/models/flow/channel_permutation.ts";

Deno.test({
  name: "ChannelPermutation: inverse-permutation gradient = gather gradient; inverse recomputed after a new permutation is assigned",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const perm = tf.variable(tf.tensor1d([2, 0, 3, 1], "int32"), false);
    const p = new ChannelPermutation(perm);
    const x = tf.tensor4d(randn(2 * 3 * 3 * 4, 4), [2, 3, 3, 4]);
    const dy = tf.tensor4d(randn(2 * 3 * 3 * 4, 5), [2, 3, 3, 4]);
    const check = async () => {
      const ours = tf.grad((t) => p.forward(t as tf.Tensor4D))(x, dy);
      const plain = tf.grad((t) => tf.gather(t, perm as tf.Tensor1D, 3))(x, dy);
      assertEquals(Array.from(await ours.data()), Array.from(await plain.data()));
      const back = p.inverse(p.forward(x));
      assertEquals(Array.from(await back.data()), Array.from(await x.data()));
      tf.dispose([ours, plain, back]);
    };
    await check();
    perm.assign(tf.tensor1d([3, 2, 1, 0], "int32"));
    await check();
    tf.dispose([perm, x, dy]);
  },
});
