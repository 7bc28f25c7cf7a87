/**
 * Native (OpenBLAS via FFI) conv throughput on raw Float32Arrays, comparable with
 * lib/backend/measure.ts: 3x3 NHWC conv, batch 8, 24x24, 'same', C -> C.
 *
 *   deno run -A lib/backend/native/measure.ts [--channels 256,1024] [--threads 2]
 */
import { parseArgs } from "node:util";
import { loadOpenBlas } from "./openblas.ts";
import { type ConvGeometry, conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./conv.ts";

export function sameGeometry(batch: number, size: number, cin: number, cout: number, k: number): ConvGeometry {
  return {
    batchSize: batch, inHeight: size, inWidth: size, inChannels: cin,
    outHeight: size, outWidth: size, outChannels: cout,
    filterHeight: k, filterWidth: k, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1,
    padInfo: { top: (k - 1) >> 1, left: (k - 1) >> 1 },
  };
}

function medianMs(fn: () => void, repeats: number): number {
  fn(); // warm-up: scratch allocation, OpenBLAS thread start
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: { channels: { type: "string", default: "256,1024" }, threads: { type: "string", default: "2" } } });
  const { blas, reason } = loadOpenBlas();
  if (!blas) {
    console.log(reason);
    Deno.exit(1);
  }
  blas.setThreads(Number(values.threads));
  console.log(`${blas.config}; threads ${blas.threads()}; load average ${(await Deno.readTextFile("/proc/loadavg")).trim()}`);
  for (const c of values.channels!.split(",").map(Number)) {
    const g = sameGeometry(8, 24, c, c, 3);
    const gflop = (2 * 8 * 24 * 24 * 9 * c * c) / 1e9;
    const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
    const x = rnd(8 * 24 * 24 * c), w = rnd(9 * c * c), dy = rnd(8 * 24 * 24 * c);
    const reps = c >= 1024 ? 3 : 7;
    // outputs and GEMM operands, allocated untimed
    const cols = new Float32Array(8 * 576 * 9 * c), out = new Float32Array(8 * 576 * c), dw = new Float32Array(9 * c * c);
    const rows: [string, number][] = [
      ["forward", medianMs(() => conv2dForward(blas, x, w, g, out), reps)],
      ["input grad", medianMs(() => conv2dBackpropInput(blas, dy, w, g, out), reps)],
      ["filter grad", medianMs(() => conv2dBackpropFilter(blas, x, dy, g, dw), reps)],
      ["gemm only (fwd shape)", medianMs(() => blas.sgemm(false, false, 8 * 576, c, 9 * c, 1, cols, w, 0, out), reps)],
    ];
    for (const [what, ms] of rows) {
      console.log(`${c}->${c} ${what.padEnd(22)} ${(gflop / (ms / 1000)).toFixed(1).padStart(6)} GFLOP/s  (${ms.toFixed(1)} ms, ${gflop.toFixed(2)} GFLOP)`);
    }
  }
  console.log(`load average ${(await Deno.readTextFile("/proc/loadavg")).trim()}`);
}

if (import.meta.main) await main();
