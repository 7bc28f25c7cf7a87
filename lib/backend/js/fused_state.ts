/**
 * Which backends run AST Lab's fused kernels, with which FusedMath (the JS loops or the native
 * library). The ops decide from tfjs' kernel registry whether to run a kernel
 * (lib/ops/fused_switch.ts); the kernels that also run without the fused ops on (edge padding,
 * Adam's step, the in-place activations of the native convolutions) pick their loops here.
 */
import type { FusedMath } from "./fused_math.ts";

const mathByBackend = new Map<string, FusedMath>();

/** Records (or, with null, forgets) the implementation a backend's kernels run on. */
export function setFusedMath(backendName: string, math: FusedMath | null): void {
  if (math) mathByBackend.set(backendName, math);
  else mathByBackend.delete(backendName);
}

/** The FusedMath registered for a backend, whether or not the fused ops are on (e.g. for Adam's loop). */
export function registeredFusedMath(backendName: string): FusedMath | null {
  return mathByBackend.get(backendName) ?? null;
}
