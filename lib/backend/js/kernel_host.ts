/**
 * How a JS-written tfjs kernel reads and allocates tensors on the backends it supports: the
 * wasm heap (views, in place) or the cpu backend's JS arrays. Kernels take input views after
 * allocating their outputs: a wasm allocation can grow (and so detach) the heap.
 */
import * as tf from "@tensorflow/tfjs-core";

export type NumArray = Float32Array | Int32Array | Uint8Array;

export interface KernelHost {
  values(backend: unknown, t: tf.TensorInfo): NumArray;
  output(backend: unknown, shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** the same data as a new output (a counted reference, no copy; tensors are immutable) */
  share(backend: unknown, t: tf.TensorInfo): tf.TensorInfo;
}

function zeros(shape: number[], dtype: tf.DataType): NumArray {
  const n = tf.util.sizeFromShape(shape);
  return dtype === "int32" ? new Int32Array(n) : dtype === "bool" ? new Uint8Array(n) : new Float32Array(n);
}

// deno-lint-ignore no-explicit-any
type AnyBackend = any;

/** A counted reference to t's data (both backends count references per data id). */
function share(b: AnyBackend, t: tf.TensorInfo): tf.TensorInfo {
  b.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}

export const KERNEL_HOSTS: Record<"wasm" | "cpu", KernelHost> = {
  wasm: {
    values: (b: AnyBackend, t) => b.typedArrayFromHeap(t),
    output: (b: AnyBackend, shape, dtype) => b.makeOutput(shape, dtype),
    share,
  },
  cpu: {
    values: (b: AnyBackend, t) => b.data.get(t.dataId).values,
    output: (b: AnyBackend, shape, dtype) => b.makeTensorInfo(shape, dtype, zeros(shape, dtype)),
    share,
  },
};

/** Registers `make(host, backendName)` as `kernelName` on wasm and cpu (where not registered yet). */
export function registerJsKernel(kernelName: string, make: (host: KernelHost, backendName: string) => tf.KernelFunc): void {
  for (const [backendName, host] of Object.entries(KERNEL_HOSTS)) {
    if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc: make(host, backendName) });
  }
}
