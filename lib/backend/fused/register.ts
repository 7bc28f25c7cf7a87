/**
 * Registers AST Lab's fused kernels (coupling.ts, channels.ts, batch_norm_leaky.ts, activations.ts) on a backend
 * with a FusedMath: the cpu backend with the JS loops (at import), the wasm backend with the
 * native library when it builds (lib/backend/backend.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { KERNEL_HOSTS } from "../kernel_host.ts";
import { activationKernels, registerActivationGradients } from "./activations.ts";
import { batchNormLeakyKernels, registerBatchNormLeakyGradient } from "./batch_norm_leaky.ts";
import { channelKernels, registerChannelGradients } from "./channels.ts";
import { couplingKernels, registerCouplingGradient } from "./coupling.ts";
import { type FusedMath, jsFusedMath } from "./math.ts";
import { setFusedMath } from "./state.ts";

let gradientsRegistered = false;

function kernelsFor(backendName: "wasm" | "cpu", math: FusedMath): Record<string, tf.KernelFunc> {
  const host = KERNEL_HOSTS[backendName];
  return {
    ...couplingKernels(host, math),
    ...channelKernels(host, math),
    ...batchNormLeakyKernels(host, math),
    ...activationKernels(host, math),
  };
}

/** Registers (or re-registers, with another implementation) the kernels on a backend. */
export function registerFusedKernels(backendName: "wasm" | "cpu", math: FusedMath): void {
  if (!gradientsRegistered) {
    registerCouplingGradient();
    registerChannelGradients();
    registerBatchNormLeakyGradient();
    registerActivationGradients();
    gradientsRegistered = true;
  }
  unregisterFusedKernels(backendName);
  for (const [kernelName, kernelFunc] of Object.entries(kernelsFor(backendName, math))) {
    tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
  setFusedMath(backendName, math);
}

/** Removes them (the ops then compose tfjs ops on that backend). */
export function unregisterFusedKernels(backendName: "wasm" | "cpu"): void {
  for (const kernelName of Object.keys(kernelsFor(backendName, jsFusedMath))) {
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  }
  setFusedMath(backendName, null);
}
