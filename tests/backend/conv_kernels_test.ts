/**
 * conv2d / conv2dTranspose / depthwiseConv2d on wasm (added Conv2DBackpropFilter,
 * Depthwise*Backprop*, replaced Conv2DBackpropInput; conv2d with oneDNN, with OpenBLAS and with the
 * backend's own kernels) against cpu: values and gradients w.r.t.
 * input and filter. Tolerance: 1e-5 x max|cpu| absolute or 1e-4 relative (float32 sums of up
 * to a few hundred products, accumulated in a different order).
 */
import * as tf from "@tensorflow/tfjs-core";
import { compareWithCpu, CONV_IMPLS, WASM_TEST, withConvolutions } from "./_helpers.ts";

type Pad = "same" | "valid" | number[][];

const EXPLICIT_PADS: Record<number, number[][]> = {
  1: [[0, 0], [1, 0], [0, 1], [0, 0]],
  3: [[0, 0], [1, 2], [2, 1], [0, 0]],
  5: [[0, 0], [2, 2], [1, 3], [0, 0]],
};

/** [batch, height, width, inChannels, outChannels]: batch 1/3, odd/even sizes and channels. */
const SHAPES: [number, number, number, number, number][] = [[1, 8, 8, 4, 6], [3, 7, 9, 3, 5]];

// Every convolution implementation of the wasm backend: oneDNN and OpenBLAS (lib/backend/native/,
// the default where they load) and its own XNNPACK-based kernels (AST_NATIVE_CONV=0).
for (const impl of CONV_IMPLS) {
  for (const k of [1, 3, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ["same", "valid", EXPLICIT_PADS[k]] as Pad[]) {
        Deno.test({
          name: `conv2d (${impl}) k${k} s${stride} pad ${JSON.stringify(pad)}: value, dx, dW match cpu`,
          ...WASM_TEST,
          fn: async () => {
            const ran = await withConvolutions(impl, async () => {
              for (const [b, h, w, ci, co] of SHAPES) {
                await compareWithCpu(
                  `conv2d (${impl}) [${b},${h},${w},${ci}]->${co} k${k} s${stride} ${JSON.stringify(pad)}`,
                  (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad as "same"),
                  [{ shape: [b, h, w, ci] }, { shape: [k, k, ci, co] }],
                  { seed: 11 * k + stride },
                );
              }
            });
            if (!ran) console.warn(`SKIP: ${impl} convolutions unavailable (library not loadable)`);
          },
        });
      }
    }
  }
}

for (const impl of CONV_IMPLS) {
  const both = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${name} (${impl})`,
      ...WASM_TEST,
      fn: async () => {
        if (!(await withConvolutions(impl, fn))) console.warn(`SKIP: ${impl} convolutions unavailable (library not loadable)`);
      },
    });

  both("conv2d with rectangular kernel and strides [2,1]", async () => {
    await compareWithCpu(
      "conv2d 3x2 s[2,1]",
      (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, [2, 1], "same"),
      [{ shape: [2, 9, 6, 3] }, { shape: [3, 2, 3, 4] }],
    );
  });

  both("conv2dTranspose (Conv2DBackpropInput forward) s1/s2, same/valid: value and grads", async () => {
    for (const [stride, pad, inHW, outHW] of [[1, "same", 6, 6], [2, "same", 5, 10], [2, "valid", 5, 11], [2, "valid", 4, 10]] as const) {
      await compareWithCpu(
        `conv2dTranspose s${stride} ${pad} ${inHW}->${outHW}`,
        (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, outHW, outHW, 3], stride, pad),
        [{ shape: [2, inHW, inHW, 5] }, { shape: [3, 3, 3, 5] }],
      );
    }
  });

  both("fused conv2d (bias + relu / leakyrelu) gradients", async () => {
    await compareWithCpu(
      "fused.conv2d relu",
      (x, f, bias) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: "same", bias, activation: "relu" }),
      [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
    );
    await compareWithCpu(
      "fused.conv2d leakyrelu",
      (x, f, bias) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: "valid", bias, activation: "leakyrelu", leakyreluAlpha: 0.1 }),
      [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
    );
  });
}

for (const stride of [1, 2]) {
  for (const pad of ["same", "valid"] as const) {
    Deno.test({
      name: `depthwiseConv2d s${stride} ${pad}, multiplier 1/2, k 1/3/5: value, dx, dW match cpu`,
      ...WASM_TEST,
      fn: async () => {
        for (const [b, h, w, c, m, k] of [[1, 8, 8, 4, 1, 3], [3, 7, 9, 3, 2, 3], [2, 8, 7, 5, 1, 5], [1, 6, 6, 2, 2, 1]]) {
          await compareWithCpu(
            `depthwise [${b},${h},${w},${c}] m${m} k${k} s${stride} ${pad}`,
            (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad),
            [{ shape: [b, h, w, c] }, { shape: [k, k, c, m] }],
            { seed: 5 * k + m },
          );
        }
      },
    });
  }
}

Deno.test({
  name: "depthwiseConv2d with explicit pads",
  ...WASM_TEST,
  fn: async () => {
    await compareWithCpu(
      "depthwise explicit",
      (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, [[0, 0], [1, 2], [0, 1], [0, 0]]),
      [{ shape: [2, 6, 7, 3] }, { shape: [3, 3, 3, 1] }],
    );
  },
});
