/**
 * When an op runs its kernel. The fused ops (coupling half, permutation split, join + clip,
 * BatchNorm + LeakyReLU, swish) use their kernel when the active backend has it and the switch is
 * on, and compose tfjs ops otherwise (the same function and gradients). The backend registers the
 * kernels (lib/backend/js/fused_kernels.ts); this module only looks them up in tfjs' registry.
 */
import * as tf from "@tensorflow/tfjs-core";

let enabled = true;

/** Turns the fused ops on or off (off: every fused op composes tfjs ops); returns the previous setting. */
export function setFusedOps(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** True when the active backend has `kernelName` (whatever the switch says). */
export function activeBackendHas(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}

/** True when `kernelName` runs fused on the active backend: the switch is on and the backend has it. */
export function useFused(kernelName: string): boolean {
  return enabled && activeBackendHas(kernelName);
}
