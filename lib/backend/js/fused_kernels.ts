/**
 * Registers AST Lab's fused kernels (coupling_half_kernels.ts, channel_kernels.ts,
 * batch_norm_leaky_kernels.ts, swish_kernels.ts) on a backend with a FusedMath: the cpu backend
 * with the JS loops, the wasm backend with the native library when it builds
 * (lib/backend/backend.ts). Their gradients belong to the ops (lib/ops/op_gradients.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { KERNEL_HOSTS } from "./kernel_host.ts";
import { swishKernels } from "./swish_kernels.ts";
import { batchNormLeakyKernels } from "./batch_norm_leaky_kernels.ts";
import { channelKernels } from "./channel_kernels.ts";
import { couplingHalfKernels } from "./coupling_half_kernels.ts";
import { type FusedMath, jsFusedMath } from "./fused_math.ts";
import { setFusedMath } from "./fused_state.ts";

function kernelsFor(backendName: "wasm" | "cpu", math: FusedMath): Record<string, tf.KernelFunc> {
  const host = KERNEL_HOSTS[backendName];
  return {
    ...couplingHalfKernels(host, math),
    ...channelKernels(host, math),
    ...batchNormLeakyKernels(host, math),
    ...swishKernels(host, math),
  };
}

/** Registers (or re-registers, with another implementation) the kernels on a backend. */
export function registerFusedKernels(backendName: "wasm" | "cpu", math: FusedMath): void {
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
