/**
 * The speed replacements on wasm (lib/backend/wasm/fast_kernels.ts, the OpenBLAS Sum / Mean,
 * the LeakyRelu gradient, the kernel profiler) against the cpu backend or the composed ops they
 * replace: values, gradients, no leaked tensors. (Edge padding and ClipByValue's gradient:
 * tests/ops/; the channel permutation's gradient: tests/models/.)
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertEquals } from "../assert.ts";
import { compareWithCpu, randn, setup, WASM_TEST } from "./_helpers.ts";

Deno.test({
  name: "Identity / same-dtype Cast share the data: values kept after the source is disposed, nothing leaked",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const before = tf.engine().backend.numDataIds();
    const x = tf.tensor([1.5, -2, 3], [3]);
    const ints = tf.tensor([1, 2], [2], "int32");
    const c = tf.clone(x), k = tf.cast(x, "float32"), i = tf.cast(ints, "int32");
    tf.dispose([x, ints]);
    assertEquals(Array.from(await c.data()), [1.5, -2, 3]);
    assertEquals(Array.from(await k.data()), [1.5, -2, 3]);
    assertEquals(Array.from(await i.data()), [1, 2]);
    const f = tf.cast(c, "int32"); // a real cast still converts
    assertEquals(Array.from(await f.data()), [1, -2, 3]);
    tf.dispose([c, k, i, f]);
    assertEquals(tf.engine().backend.numDataIds(), before);
  },
});

Deno.test({
  name: "LeakyRelu (Prelu on wasm) and its Step gradient: values and gradients match cpu, zeros included",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const values = randn(2 * 5 * 4 * 6, 3);
    for (let j = 0; j < values.length; j += 7) values[j] = 0; // x == 0 takes the alpha branch on both
    for (const alpha of [0.01, 0.2]) {
      await compareWithCpu(`leakyRelu ${alpha}`, (x) => tf.leakyRelu(x, alpha), [{ shape: [2, 5, 4, 6], values }]);
    }
    await compareWithCpu("leakyRelu 1-D", (x) => tf.leakyRelu(x, 0.3), [{ shape: [7] }]);
  },
});

Deno.test({
  name: "Sum / Mean over leading, trailing, middle and all axes, keepDims: values and gradients match cpu",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const cases: [number[] | number | null, boolean][] = [
      [[0, 1, 2], false], [[0, 1, 2], true], [[0], false], [3, false], [[2, 3], true], [[1, 2], false], [null, false], [[0, 1, 2, 3], true],
    ];
    for (const [axis, keepDims] of cases) {
      const what = `axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
      await compareWithCpu(`sum ${what}`, (x) => tf.sum(x, axis ?? undefined, keepDims), [{ shape: [3, 4, 5, 6] }]);
      await compareWithCpu(`mean ${what}`, (x) => tf.mean(x, axis ?? undefined, keepDims), [{ shape: [3, 4, 5, 6] }]);
    }
    // int32 keeps the backend's own kernel
    const s = tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], "int32"), 0);
    assertEquals(s.dtype, "int32");
    assertEquals(Array.from(await s.data()), [4, 6]);
    s.dispose();
  },
});

Deno.test({
  name: "GatherV2 block copies: int32 data, last axis, axis 0 of a 1-D tensor",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    await compareWithCpu("gather last axis", (x) => tf.gather(x, tf.tensor1d([3, 0, 3, 1], "int32"), 2), [{ shape: [2, 3, 5] }]);
    await compareWithCpu("gather 1-D", (x) => tf.gather(x, tf.tensor1d([2, 2, 0], "int32"), 0), [{ shape: [4] }]);
    const g = tf.gather(tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], "int32"), tf.tensor1d([2, 0], "int32"));
    assertEquals(Array.from(await g.data()), [5, 6, 1, 2]);
    g.dispose();
  },
});

Deno.test({
  name: "SplitV block copies: last, middle and first axis, sizes with -1, int32: values and gradients match cpu",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    for (const [axis, sizes] of [[3, [2, 4]], [1, [1, -1, 1]], [0, 3], [3, [5, 0, 1]]] as const) {
      await compareWithCpu(
        `split axis ${axis} ${JSON.stringify(sizes)}`,
        // concat the pieces back in a different order so every output's gradient is checked
        (x) => tf.concat(tf.split(x, sizes as unknown as number[], axis).reverse(), axis),
        [{ shape: [3, 4, 5, 6] }],
      );
    }
    const [a, b] = tf.split(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], "int32"), [1, 2], 1);
    assertEquals([Array.from(await a.data()), Array.from(await b.data())], [[1, 4], [2, 3, 5, 6]]);
    tf.dispose([a, b]);
  },
});

