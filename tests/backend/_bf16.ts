/**
 * bf16 arithmetic emulated in fp32, for tests that check what oneDNN's bf16 convolutions do:
 * `toBf16` rounds like oneDNN's f32 -> bf16 reorder, and `withEmulatedBf16Convolutions` runs
 * the active tfjs backend's convolution kernels on inputs and filters rounded that way first
 * (fp32 accumulation), i.e. "bf16 inputs, fp32 accumulation" without a bf16 kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";

/** Rounded to bfloat16 (nearest even), as oneDNN's f32 -> bf16 reorder does; finite inputs. */
export function toBf16(a: Float32Array): Float32Array {
  const out = new Float32Array(a);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i] + 0x7fff + ((u[i] >>> 16) & 1)) & 0xffff0000) >>> 0;
  return out;
}

/** The forward convolution kernels; their inputs `x` and `filter` are the ones a bf16 kernel reads in bf16. */
const CONVOLUTIONS = ["Conv2D", "FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2D"];

export interface Emulation {
  /** round the convolutions' inputs (activations) */
  inputs?: boolean;
  /** round the convolutions' filters (weights) */
  filters?: boolean;
}

/**
 * Runs `fn` with the active backend's forward convolution kernels wrapped: `x` and/or `filter`
 * are rounded to bf16 before the original kernel (bias, activation and accumulation stay fp32).
 * The kernels are restored afterwards, also when `fn` throws.
 */
export async function withEmulatedBf16Convolutions<T>(fn: () => T | Promise<T>, what: Emulation = { inputs: true, filters: true }): Promise<T> {
  const backendName = tf.getBackend();
  const originals = CONVOLUTIONS.map((name) => tf.getKernel(name, backendName)).filter((k) => k != null);
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const backend = args.backend as tf.KernelBackend & { write(v: Float32Array, shape: number[], dtype: tf.DataType): tf.DataId };
        const made: tf.DataId[] = [];
        const rounded = (t: tf.TensorInfo): tf.TensorInfo => {
          const dataId = backend.write(toBf16(backend.readSync(t.dataId) as Float32Array), t.shape, "float32");
          made.push(dataId);
          return { dataId, shape: t.shape, dtype: "float32" };
        };
        const inputs = { ...args.inputs } as Record<string, tf.TensorInfo>;
        if (what.inputs) inputs.x = rounded(inputs.x);
        if (what.filters) inputs.filter = rounded(inputs.filter);
        try {
          return k.kernelFunc({ ...args, inputs });
        } finally {
          for (const id of made) backend.disposeData(id);
        }
      },
    });
  }
  try {
    return await fn();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
}

/** Relative L2 distance of `got` from `want`. */
export function relL2(got: Float32Array, want: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i] - want[i];
    num += d * d;
    den += want[i] * want[i];
  }
  return Math.sqrt(num / den);
}

/** Why bf16 convolutions cannot run in this process (the note of setConvolutionPrecision), or null; leaves fp32 active. */
export function bf16Unavailable(): string | null {
  const probe = setConvolutionPrecision("bf16");
  setConvolutionPrecision("fp32");
  return probe.precision === "bf16" ? null : probe.note ?? "bf16 unavailable";
}
