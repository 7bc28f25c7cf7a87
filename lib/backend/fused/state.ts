/**
 * Which backends run AST Lab's fused kernels, with which FusedMath. The ops (coupling.ts,
 * channels.ts, batch_norm_leaky.ts) use a kernel when the active backend has it and fused
 * kernels are on, and compose tfjs ops otherwise (the same function and gradients).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FusedMath } from "./math.ts";

let enabled = true;
const mathByBackend = new Map<string, FusedMath>();

/** Turns the fused ops on or off (off: every op composes tfjs ops); returns the previous setting. */
export function setFusedOps(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Records (or, with null, forgets) the implementation a backend's kernels run on. */
export function setFusedMath(backendName: string, math: FusedMath | null): void {
  if (math) mathByBackend.set(backendName, math);
  else mathByBackend.delete(backendName);
}

/** The FusedMath registered for a backend, whether or not the fused ops are on (e.g. for Adam's loop). */
export function registeredFusedMath(backendName: string): FusedMath | null {
  return mathByBackend.get(backendName) ?? null;
}

/** The FusedMath of the active backend's kernels, or null (fused ops off or not registered there). */
export function activeFusedMath(): FusedMath | null {
  return enabled ? mathByBackend.get(tf.getBackend()) ?? null : null;
}

/** True when `kernelName` runs fused on the active backend. */
export function useFused(kernelName: string): boolean {
  return activeFusedMath() != null && tf.getKernel(kernelName, tf.getBackend()) != null;
}
