import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { quietTfjs } from "../../lib/backend/tfjs_warnings.ts";
import { Adam } from "../../lib/train/adam.ts";
import { registerAdamKernel } from "../../lib/backend/js/adam_kernel.ts";
import { assertClose, assertEquals } from "../assert.ts";

quietTfjs(); // cpu backend without initBackend: no "install our node backend" banner

Deno.test("Adam: PyTorch update rule with coupled weight decay, checked by hand over 3 steps (kernel and composed ops)", async () => {
  await tf.setBackend("cpu");
  registerAdamKernel(); // the cpu backend's JS kernel (initBackend registers it; this test does not init)
  for (const useKernel of [true, false]) {
    const cfg = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const p = tf.variable(tf.tensor1d([1.0, -2.0]));
    const opt = new Adam(cfg, new Map([["w", p]]));
    opt.useKernel = useKernel;
    // plain-number reference, written out independently
    let w = [1.0, -2.0];
    const m = [0, 0], v = [0, 0];
    const grads = [[0.5, -1.0], [0.1, 0.2], [-0.3, 0.4]];
    for (let t = 1; t <= 3; t++) {
      const g = tf.tensor1d(grads[t - 1]);
      opt.apply(new Map([["w", g]]));
      g.dispose();
      w = w.map((wi, i) => {
        const gi = grads[t - 1][i] + cfg.weightDecay * wi;
        m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * gi;
        v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * gi * gi;
        const mHat = m[i] / (1 - cfg.beta1 ** t), vHat = v[i] / (1 - cfg.beta2 ** t);
        return wi - cfg.lr * mHat / (Math.sqrt(vHat) + cfg.eps);
      });
    }
    // PyTorch puts eps after dividing sqrt(v) by sqrt(1-b2^t): identical to the form above.
    assertClose(p.dataSync(), w, { atol: 1e-6, rtol: 1e-6, what: `weights after 3 steps (${useKernel ? "kernel" : "composed"})` });
    opt.dispose();
    p.dispose();
  }
});

Deno.test({
  name: "Adam: the fused kernel (wasm and cpu) = the composed ops over 4 steps: weights and both moments",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { initBackend } = await import("../../lib/backend/backend.ts");
    const { runtimeFromEnv } = await import("../../lib/config/runtime.ts");
    const { randn } = await import("../backend/_helpers.ts");
    const main = (await initBackend(runtimeFromEnv().backend)).name;
    for (const backend of [main, "cpu"]) {
      await tf.setBackend(backend);
      const run = (useKernel: boolean) => {
        const p = tf.tidy(() => tf.variable(tf.tensor2d(randn(300, 1), [20, 15])));
        const opt = new Adam({ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-3 }, new Map([["w", p]]));
        opt.useKernel = useKernel;
        for (let t = 0; t < 4; t++) {
          const g = tf.tensor2d(randn(300, 10 + t), [20, 15]);
          opt.apply({ w: g });
          g.dispose();
        }
        const out = [p, opt.m.get("w")!, opt.v.get("w")!].map((t) => t.dataSync() as Float32Array);
        opt.dispose();
        p.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const fused = run(true), composed = run(false);
      assertEquals(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      for (const [i, name] of ["weights", "m", "v"].entries()) {
        assertClose(fused[i], Array.from(composed[i]), { atol: 1e-6, rtol: 1e-5, what: `${backend} ${name}` });
      }
    }
    await tf.setBackend(main);
  },
});
