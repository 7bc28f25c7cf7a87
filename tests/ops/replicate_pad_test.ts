/**
 * Edge padding (lib/ops/replicate_pad.ts): its kernel on wasm and on cpu against the composed
 * slices + concats, values and gradients (pad 1 and 2, 1x1 images).
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals } from "../assert.ts";
import { compareWithCpu, randn, setup, WASM_TEST } from "../backend/_helpers.ts";
import { replicatePadComposed, replicatePadKernel } from "../../lib/ops/replicate_pad.ts";

Deno.test({
  name: "ReplicatePad kernel (wasm) = slices + concats (cpu): values and gradients, pad 1 and 2",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    for (const pad of [1, 2]) {
      await compareWithCpu(
        `replicate pad ${pad}`,
        (x) => tf.getBackend() === "cpu" ? replicatePadComposed(x as tf.Tensor4D, pad) : replicatePadKernel(x as tf.Tensor4D, pad),
        [{ shape: [2, 4, 3, 5] }],
      );
    }
    // 1x1 images: every padded pixel is a copy of the one pixel
    await compareWithCpu(
      "replicate pad 1x1",
      (x) => tf.getBackend() === "cpu" ? replicatePadComposed(x as tf.Tensor4D, 2) : replicatePadKernel(x as tf.Tensor4D, 2),
      [{ shape: [1, 1, 1, 3] }],
    );
  },
});

Deno.test({
  name: "ReplicatePad kernel on cpu = slices + concats on cpu (value and gradient)",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    await tf.setBackend("cpu");
    try {
      const x = tf.tensor4d(randn(2 * 3 * 4 * 2, 9), [2, 3, 4, 2]);
      const dy = tf.tensor4d(randn(2 * 7 * 8 * 2, 10), [2, 7, 8, 2]);
      const [a, ga] = [replicatePadKernel(x, 2), tf.grad((t) => replicatePadKernel(t as tf.Tensor4D, 2))(x, dy)];
      const [b, gb] = [replicatePadComposed(x, 2), tf.grad((t) => replicatePadComposed(t as tf.Tensor4D, 2))(x, dy)];
      assertEquals(Array.from(await a.data()), Array.from(await b.data()));
      const [gaV, gbV] = [await ga.data(), await gb.data()];
      for (let i = 0; i < gaV.length; i++) assert(Math.abs(gaV[i] - gbV[i]) <= 1e-5, `grad ${i}: ${gaV[i]} vs ${gbV[i]}`);
      tf.dispose([x, dy, a, ga, b, gb]);
    } finally {
      await tf.setBackend("wasm");
    }
  },
});
