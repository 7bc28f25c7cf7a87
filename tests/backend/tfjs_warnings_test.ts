/** tfjs' "install our node backend" banner: printed by a cpu backend's first use, not after initBackend. */
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { initBackend } from "../../lib/backend/backend.ts";
import { assert, assertEquals } from "../assert.ts";

/** console.warn lines mentioning the node backend while `fn` runs. */
function bannerLines(fn: () => void): string[] {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return seen.filter((line) => line.includes("node backend"));
}

/** A fresh cpu backend's first write: where tfjs prints the banner. */
function firstCpuWrite(): void {
  const backend = new MathBackendCPU();
  backend.write(new Float32Array([1]), [1], "float32");
  backend.dispose();
}

Deno.test("tfjs' node-backend banner: printed by a fresh cpu backend before initBackend, silent after it", async () => {
  assertEquals(tf.env().getBool("PROD"), false);
  assertEquals(bannerLines(firstCpuWrite).length, 1, "the control: tfjs prints it (else this test checks nothing)");
  await initBackend({ prefer: "cpu" });
  assert(tf.env().getBool("PROD"));
  assertEquals(bannerLines(firstCpuWrite), []);
  await tf.setBackend("cpu");
  assertEquals(bannerLines(() => tf.tensor1d([1, 2]).dispose()), []);
});
