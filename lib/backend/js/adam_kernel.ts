/**
 * The Adam step kernel (the op: lib/ops/adam_step.ts) for wasm and cpu: the loop runs natively
 * where the backend's fused kernels do (fused_state.ts), else in JS (adam_loop.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { ADAM_STEP, type AdamStepAttrs } from "../../ops/adam_step.ts";
import { type KernelHost, registerJsKernel } from "./kernel_host.ts";
import { registeredFusedMath } from "./fused_state.ts";
import { adamStepValues } from "./adam_loop.ts";

function adamKernel(host: KernelHost, backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { p, g, m, v } = inputs as Record<string, tf.TensorInfo>;
    for (const t of [p, g, m, v]) {
      if (t.dtype !== "float32") throw new Error(`${ADAM_STEP}: float32 expected, got ${t.dtype}`);
      if (!tf.util.arraysEqual(t.shape, p.shape)) throw new Error(`${ADAM_STEP}: shapes differ [${t.shape}] vs [${p.shape}]`);
    }
    const outs = [0, 1, 2].map(() => host.output(backend, p.shape, "float32"));
    const [vp, vg, vm, vv] = [p, g, m, v].map((t) => host.values(backend, t) as Float32Array);
    const [op, om, ov] = outs.map((t) => host.values(backend, t) as Float32Array);
    const step = registeredFusedMath(backendName)?.adamStep ?? adamStepValues;
    step(vp, vg, vm, vv, op, om, ov, attrs as unknown as AdamStepAttrs);
    return outs;
  };
}

/** Registers the kernel for wasm and cpu (idempotent). */
export function registerAdamKernel(): void {
  registerJsKernel(ADAM_STEP, adamKernel);
}
