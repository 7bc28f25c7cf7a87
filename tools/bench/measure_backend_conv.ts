/**
 * Conv throughput on the chosen backend: 3x3 NHWC conv, batch 8, 24x24, 256->256, 'same'
 * (5.44 GFLOP forward; backward = input grad + filter grad = 2 x forward).
 *
 *   deno run -A tools/bench/measure_backend_conv.ts    # backend/threads from AST_BACKEND / AST_THREADS
 *   AST_THREADS=1 deno run -A tools/bench/measure_backend_conv.ts
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";

const [BATCH, SIZE, CIN, COUT, K] = [8, 24, 256, 256, 3];
const FORWARD_GFLOP = (2 * BATCH * SIZE * SIZE * CIN * COUT * K * K) / 1e9;
const REPEATS = 5;

/** Median seconds of `fn` (after one warm-up run); the result is read back to time real work. */
async function medianSeconds(fn: () => tf.Tensor[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= REPEATS; i++) {
    const t0 = performance.now();
    const outs = fn();
    await Promise.all(outs.map((t) => t.data()));
    const dt = (performance.now() - t0) / 1000;
    tf.dispose(outs);
    if (i > 0) times.push(dt);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const info = await initBackend(runtimeFromEnv().backend);
  console.log(`backend ${info.name}, threads ${info.threads}${info.simd ? ", simd" : ""}${info.note ? ` (${info.note})` : ""}`);
  const x = tf.randomNormal([BATCH, SIZE, SIZE, CIN], 0, 1, "float32", 1) as tf.Tensor4D;
  const w = tf.randomNormal([K, K, CIN, COUT], 0, 0.05, "float32", 2) as tf.Tensor4D;
  const dy = tf.randomNormal([BATCH, SIZE, SIZE, COUT], 0, 1, "float32", 3) as tf.Tensor4D;
  const conv = (a: tf.Tensor, f: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, "same");

  const rows: [string, number, number][] = [
    ["forward", FORWARD_GFLOP, await medianSeconds(() => [conv(x, w)])],
    ["input grad (Conv2DBackpropInput)", FORWARD_GFLOP, await medianSeconds(() => [tf.conv2dTranspose(dy, w, x.shape, 1, "same")])],
    ["filter grad (Conv2DBackpropFilter)", FORWARD_GFLOP, await medianSeconds(() => [
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides: 1, pad: "same", dataFormat: "NHWC", filterShape: w.shape }) as tf.Tensor,
    ])],
    ["forward+backward (value, dx, dW)", 3 * FORWARD_GFLOP, await medianSeconds(() => {
      const { value, grads } = tf.valueAndGrads(conv)([x, w], dy); // one forward, then dx and dW
      return [value, ...grads];
    })],
  ];
  for (const [what, gflop, s] of rows) {
    console.log(`${what.padEnd(36)} ${(gflop / s).toFixed(1).padStart(6)} GFLOP/s  (${(s * 1000).toFixed(0)} ms, ${gflop.toFixed(2)} GFLOP)`);
  }
  tf.dispose([x, w, dy]);
}

if (import.meta.main) await main();
