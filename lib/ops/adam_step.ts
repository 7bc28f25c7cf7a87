/**
 * One Adam update of one parameter as a single kernel where the active backend has one (wasm and
 * cpu: lib/backend/js/adam_kernel.ts): it reads p, g, m, v once and writes p', m', v', where the
 * composed update (lib/train/adam.ts) makes 13 full passes over the parameter. For the
 * hidden-1024 student (85 M parameters) that is most of a second per step on wasm.
 *
 * Same arithmetic as lib/train/adam.ts (PyTorch's Adam with coupled weight decay), evaluated in
 * double precision per element and stored as float32.
 *
 * Kernel: AstAdamStep ({p, g, m, v}, AdamStepAttrs) -> [p', m', v']
 */
import * as tf from "@tensorflow/tfjs-core";
import { activeBackendHas } from "./fused_switch.ts";

export const ADAM_STEP = "AstAdamStep";

/** The step's constants (lib/train/adam.ts computes them per step). */
export interface AdamStepAttrs {
  stepSize: number;
  bc2Sqrt: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** [p', m', v'] with the kernel, or null when the active backend has none (use the composed ops). */
export function adamStepKernel(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamStepAttrs): tf.Tensor[] | null {
  if (!activeBackendHas(ADAM_STEP) || g.dtype !== "float32") return null;
  return tf.engine().runKernel(ADAM_STEP, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
