/** The element loop of one Adam step (the op: lib/ops/adam_step.ts), on plain arrays. */
import type { AdamStepAttrs } from "../../ops/adam_step.ts";

/** In place over arrays: the element loop both kernels run. */
export function adamStepValues(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  outP: Float32Array, outM: Float32Array, outV: Float32Array, a: AdamStepAttrs,
): void {
  const { stepSize, bc2Sqrt, beta1, beta2, eps, weightDecay } = a;
  const c1 = 1 - beta1, c2 = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i];
    const gi = g[i] + weightDecay * pi;
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    outM[i] = mi;
    outV[i] = vi;
    outP[i] = pi - stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps));
  }
}
