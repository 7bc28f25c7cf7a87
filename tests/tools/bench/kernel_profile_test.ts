/**
 * The bench's per-kernel profiler (tools/bench/kernel_profile.ts) on wasm: call counts after a
 * reset, shares, and the kernel registry restored afterwards.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals } from "../../assert.ts";
import { setup, WASM_TEST } from "../../backend/_helpers.ts";
import { profileKernels } from "../../../tools/bench/kernel_profile.ts";

Deno.test({
  name: "profileKernels: counts each kernel's calls (reset after warm-up), restores the registry",
  ...WASM_TEST,
  fn: async () => {
    await setup();
    const before = tf.getKernelsForBackend("wasm").map((k) => k.kernelFunc);
    const x = tf.ones([2, 3]);
    const rows = await profileKernels((reset) => {
      tf.tidy(() => tf.add(x, x)); // warm-up, not counted
      reset();
      for (let i = 0; i < 3; i++) tf.tidy(() => tf.mul(tf.add(x, x), x));
    });
    const byName = Object.fromEntries(rows.map((r) => [r.kernel, r.calls]));
    assertEquals(byName.Add, 3);
    assertEquals(byName.Multiply, 3);
    assert(Math.abs(rows.reduce((a, r) => a + r.share, 0) - 1) < 0.01, "shares sum to 1");
    assertEquals(tf.getKernelsForBackend("wasm").map((k) => k.kernelFunc), before);
    x.dispose();
  },
});
