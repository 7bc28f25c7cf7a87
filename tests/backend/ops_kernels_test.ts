/**
 * gather (UnsortedSegmentSum backward), matMul in all transpose combinations (transposeA
 * replaced), and every other op the training code differentiates through, on wasm vs cpu:
 * values and gradients. Tolerance: 1e-5 x max|cpu| absolute or 1e-4 relative.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals } from "../assert.ts";
import { backendInfo } from "../../lib/backend/backend.ts";
import { registerWasmTrainingKernels } from "../../lib/backend/wasm/training_kernels.ts";
import { compareWithCpu, setup, WASM_TEST } from "./_helpers.ts";

Deno.test({
  name: "initBackend: wasm with training kernels, threads reported, idempotent",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const info = backendInfo()!;
    assertEquals(info.name, "wasm");
    assert(info.threads >= 1);
    if (!info.note) assertEquals(info.threads, Math.min(8, Number(Deno.env.get("AST_THREADS") ?? navigator.hardwareConcurrency)));
    for (const k of ["Conv2DBackpropFilter", "UnsortedSegmentSum", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput"]) {
      assert(tf.getKernel(k, "wasm") != null, `${k} registered`);
    }
    assertEquals(registerWasmTrainingKernels().length, 8);
  },
});

Deno.test({
  name: "gather axis 0/1/3 with repeated indices: value and gradient (UnsortedSegmentSum)",
  ...WASM_TEST,
  fn: async () => {
    for (const [axis, idx] of [[0, [2, 0, 2, 1]], [1, [4, 4, 0]], [3, [1, 3, 1, 0, 4]]] as const) {
      await compareWithCpu(
        `gather axis ${axis}`,
        (x) => tf.gather(x, tf.tensor1d(idx as unknown as number[], "int32"), axis),
        [{ shape: [3, 5, 4, 6] }],
      );
    }
    await compareWithCpu(
      "gather 2-D indices",
      (x) => tf.gather(x, tf.tensor2d([[0, 1], [1, 1]], [2, 2], "int32"), 0),
      [{ shape: [3, 7] }],
    );
    await compareWithCpu(
      "unsortedSegmentSum direct (out-of-range id dropped)",
      (x) => tf.unsortedSegmentSum(x, tf.tensor1d([1, 0, 1, 3, -1], "int32"), 4),
      [{ shape: [5, 3, 2] }],
      { grads: false },
    );
  },
});

Deno.test({
  name: "matMul: all transpose combinations, 2-D, batched and broadcast batch",
  ...WASM_TEST,
  fn: async () => {
    const [m, k, n] = [7, 12, 5];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const aShape = ta ? [k, m] : [m, k];
        const bShape = tb ? [n, k] : [k, n];
        await compareWithCpu(`matMul ${ta}/${tb}`, (a, b) => tf.matMul(a, b, ta, tb), [{ shape: aShape }, { shape: bShape }]);
        await compareWithCpu(
          `batched matMul ${ta}/${tb}`,
          (a, b) => tf.matMul(a, b, ta, tb),
          [{ shape: [3, ...aShape] }, { shape: [3, ...bShape] }],
        );
        await compareWithCpu(
          `broadcast matMul ${ta}/${tb}`,
          (a, b) => tf.matMul(a, b, ta, tb),
          [{ shape: [2, 3, ...aShape] }, { shape: [1, 3, ...bShape] }],
          { grads: false }, // tfjs's BatchMatMul gradient does not reduce broadcast batch dims
        );
        await compareWithCpu(
          `fused matMul + bias + relu ${ta}/${tb}`,
          (a, b, bias) => tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: "relu" }),
          [{ shape: aShape }, { shape: bShape }, { shape: [n] }],
        );
      }
    }
  },
});

const T4 = (x: tf.Tensor) => x as tf.Tensor4D;
const positive = (x: tf.Tensor) => tf.add(tf.abs(x), 0.5);

/** Each op alone, on a [2, 6, 6, 4] input (plus extra inputs where the op takes them). */
const UNARY_CASES: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  atan: tf.atan,
  exp: tf.exp,
  log: (x) => tf.log(positive(x)),
  sigmoid: tf.sigmoid,
  tanh: tf.tanh,
  relu: tf.relu,
  leakyRelu: (x) => tf.leakyRelu(x, 0.2),
  elu: tf.elu,
  square: tf.square,
  sqrt: (x) => tf.sqrt(positive(x)),
  rsqrt: (x) => tf.rsqrt(positive(x)),
  clipByValue: (x) => tf.clipByValue(x, -0.7, 0.9),
  where: (x) => tf.where(tf.greater(x, 0), x, tf.mul(x, 3)),
  maximumScalar: (x) => tf.maximum(x, 0.1),
  minimumScalar: (x) => tf.minimum(x, -0.1),
  mean: (x) => tf.mean(x, [1, 2]),
  sum: (x) => tf.sum(x, 3),
  max: (x) => tf.max(x, [1, 2]),
  moments: (x) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.add(mean, variance);
  },
  concat: (x) => tf.concat([x, tf.mul(x, 2), tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1])], 3),
  slice: (x) => tf.slice(x, [0, 1, 2, 0], [1, 4, 3, 3]),
  pad: (x) => tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]),
  transpose: (x) => tf.transpose(x, [0, 3, 1, 2]),
  reshape: (x) => tf.reshape(x, [2, 36, 4]),
  resizeBilinearUp: (x) => tf.image.resizeBilinear(T4(x), [13, 11]),
  resizeBilinearHalfPixel: (x) => tf.image.resizeBilinear(T4(x), [12, 12], false, true),
  resizeBilinearAlignCorners: (x) => tf.image.resizeBilinear(T4(x), [4, 5], true),
  avgPool: (x) => tf.avgPool(T4(x), 2, 2, "valid"),
  avgPool3Same: (x) => tf.avgPool(T4(x), 3, 1, "same"),
  maxPool: (x) => tf.maxPool(T4(x), 2, 2, "valid"),
  maxPool3Same: (x) => tf.maxPool(T4(x), 3, 1, "same"),
  depthToSpace: (x) => tf.depthToSpace(T4(x), 2),
  spaceToDepthByReshape: (x) => tf.reshape(tf.transpose(tf.reshape(x, [2, 3, 2, 3, 2, 4]), [0, 1, 3, 2, 4, 5]), [2, 3, 3, 16]),
  softmax: (x) => tf.softmax(x),
  logSoftmax: (x) => tf.logSoftmax(x),
};

Deno.test({
  name: "unary / reduction / shape / image ops: value and gradient",
  ...WASM_TEST,
  fn: async () => {
    for (const [name, f] of Object.entries(UNARY_CASES)) {
      await compareWithCpu(name, f, [{ shape: [2, 6, 6, 4] }], { seed: name.length });
    }
  },
});

Deno.test({
  name: "binary ops with broadcasting, batchNorm: value and gradients of every input",
  ...WASM_TEST,
  fn: async () => {
    const x = { shape: [2, 5, 4, 3] };
    await compareWithCpu("mul", (a, b) => tf.mul(a, b), [x, { shape: [1, 5, 1, 3] }]);
    await compareWithCpu("add", (a, b) => tf.add(a, b), [x, { shape: [3] }]);
    await compareWithCpu("sub", (a, b) => tf.sub(a, b), [x, { shape: [5, 1, 1] }]);
    await compareWithCpu("div", (a, b) => tf.div(a, positive(b)), [x, { shape: [2, 1, 4, 1] }]);
    await compareWithCpu("maximum", (a, b) => tf.maximum(a, b), [x, { shape: [1, 1, 4, 3] }]);
    await compareWithCpu("minimum", (a, b) => tf.minimum(a, b), [x, { shape: [2, 5, 4, 3] }]);
    await compareWithCpu(
      "batchNorm",
      (x, mean, variance, offset, scale) => tf.batchNorm(x, mean, positive(variance), offset, scale, 1e-3),
      [x, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3] }],
    );
  },
});
