/**
 * The speed replacements on wasm (lib/backend/wasm_fast_kernels.ts, the OpenBLAS Sum / Mean,
 * the ReplicatePad kernels, the LeakyRelu gradient, the channel permutation's gradient) against
 * the cpu backend or the composed ops they replace: values, gradients, no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals } from "../assert.ts";
import { compareWithCpu, randn, setup, WASM_TEST } from "./_helpers.ts";
import { replicatePadComposed } from "../../lib/models/layers.ts";
import { replicatePadKernel } from "../../lib/backend/replicate_pad.ts";
import { ChannelPermutation } from "../../lib/models/flow/channel_permutation.ts";

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
