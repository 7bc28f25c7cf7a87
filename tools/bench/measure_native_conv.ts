/**
 * Convolution throughput of the native libraries on raw Float32Arrays: forward, input gradient
 * and filter gradient of 3x3 / 5x5 NHWC convolutions at batch 8, 24x24, 'same' (the student's and
 * the teacher's layers), median of several calls after warm-up, in GFLOP/s.
 *
 *   deno run -A tools/bench/measure_native_conv.ts [--lib onednn,openblas] [--shapes 256-256-3,216-64-5] [--threads 2]
 *
 * The host's speed drifts over minutes on shared machines: compare libraries within one run.
 */
import { parseArgs } from "node:util";
import { sameGeometry } from "../../lib/backend/native/im2col_conv.ts";
import { type ConvolutionChoice, loadConvolutionLibrary } from "../../lib/backend/native/library.ts";

/** Median wall time of `fn` over `repeats` calls, after one untimed call. */
export function medianMs(fn: () => void, repeats: number): number {
  fn(); // warm-up: primitive creation, scratch allocation, thread start
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
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      lib: { type: "string", default: "onednn,openblas" },
      shapes: { type: "string", default: "256-256-3,1024-1024-3,400-256-3,216-64-3,64-368-3,216-64-5,64-368-5" },
      threads: { type: "string", default: String(navigator.hardwareConcurrency || 1) },
    },
  });
  const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const load = async () => (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  for (const choice of values.lib!.split(",") as ConvolutionChoice[]) {
    const { convolutions: lib, reasons } = loadConvolutionLibrary(Number(values.threads), choice);
    if (!lib || !lib.name.toLowerCase().startsWith(choice)) {
      console.log(`${choice}: not loadable (${reasons.join("; ")})`);
      continue;
    }
    console.log(`${lib.name}, ${lib.threads()} threads; load average ${await load()}`);
    for (const shape of values.shapes!.split(",")) {
      const [c, o, k] = shape.split("-").map(Number);
      const g = sameGeometry(8, 24, c, o, k);
      const gflop = (2 * 8 * 24 * 24 * k * k * c * o) / 1e9;
      const x = rnd(8 * 576 * c), w = rnd(k * k * c * o), dy = rnd(8 * 576 * o);
      const y = new Float32Array(8 * 576 * o), dx = new Float32Array(8 * 576 * c), dw = new Float32Array(k * k * c * o);
      const reps = c * o >= 1024 * 1024 ? 3 : 7;
      const rate = (ms: number) => (gflop / (ms / 1000)).toFixed(0).padStart(4);
      const f = medianMs(() => lib.forward(g, x, w, y), reps);
      const d = medianMs(() => lib.backwardData(g, dy, w, dx), reps);
      const b = medianMs(() => lib.backwardWeights(g, x, dy, dw), reps);
      console.log(`  ${`${c}->${o} k${k}`.padEnd(14)} forward ${rate(f)}  input grad ${rate(d)}  filter grad ${rate(b)} GFLOP/s`);
    }
  }
  console.log(`load average ${await load()}`);
}

if (import.meta.main) await main();
