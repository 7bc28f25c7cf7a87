/**
 * One Adam update of one parameter as a single kernel (wasm and cpu): reads p, g, m, v once and
 * writes p', m', v', where the composed version makes 13 full passes over the parameter. For the
 * hidden-1024 student (85 M parameters) that is most of a second per step on wasm.
 *
 * Same arithmetic as lib/train/adam.ts (PyTorch's Adam with coupled weight decay), evaluated in
 * double precision per element and stored as float32.
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas, type KernelHost, registerJsKernel } from "../backend/kernel_host.ts";
import { registeredFusedMath } from "../backend/fused/state.ts";
import { type AdamStepAttrs, adamStepValues } from "./adam_values.ts";

export type { AdamStepAttrs };

export const ADAM_STEP = "AstAdamStep";

/** The loop runs natively where the backend's fused kernels do (lib/backend/fused/), else in JS. */
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

let registered = false;
export function registerAdamKernel(): void {
  if (registered) return;
  registered = true;
  registerJsKernel(ADAM_STEP, adamKernel);
}

/** [p', m', v'] with the kernel, or null when the active backend has none (use the composed ops). */
export function adamStepKernel(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamStepAttrs): tf.Tensor[] | null {
  registerAdamKernel();
  if (!activeBackendHas(ADAM_STEP) || g.dtype !== "float32") return null;
  return tf.engine().runKernel(ADAM_STEP, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
