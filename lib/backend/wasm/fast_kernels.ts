/**
 * Replacements for wasm kernels that are correct but slow on training workloads (measured on a
 * hidden-256 student step, [8,24,24,256] activations, tools/bench/kernel_profile.ts):
 *
 * - Identity copies the whole tensor in the shipped wasm kernel; the engine calls it for every
 *   tensor it saves for backprop (~350 copies per step, ~15% of the step). Here it shares the
 *   data and counts a reference, as the cpu backend does (tensors are immutable).
 * - Cast to the same dtype copied too (tfjs' mul gradient casts its float32 inputs): shared.
 * - GatherV2 (the batch pick of the training loop) ran ~100 ms for 8 x 212k floats: block copies.
 * - SplitV (see makeSplit) and LeakyRelu: LeakyRelu is scalar wasm (7.8 ms); it equals Prelu with a constant slope, which is XNNPACK
 *   (0.4 ms). Its gradient (lib/ops/training_gradients.ts) uses Step instead of Greater + Select (11 ms -> 1 ms).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { KERNEL_HOSTS } from "../js/kernel_host.ts";

const WASM = "wasm";
type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: tf.NamedAttrMap };

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  return KERNEL_HOSTS.wasm.share(args.backend, args.inputs.x as Info);
}

/** Gather along one axis, batchDims 0, numeric dtypes: block copies; anything else is `previous`. */
function makeGather(previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, indices } = inputs as { x: Info; indices: Info };
    const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
    if ((batchDims ?? 0) !== 0 || x.dtype === "string" || x.dtype === "complex64" || indices.dtype !== "int32") return previous(args);
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    const n = x.shape[a];
    for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= n) return previous(args); // its own error
    const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
    const picked = Int32Array.from(idx);
    const out = backend.makeOutput([...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)], x.dtype);
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
    const k = picked.length;
    let o = 0;
    if (inner === 1) {
      // a channel permutation (gather on the last axis)
      for (let b = 0; b < outer; b++) {
        const base = b * n;
        for (let j = 0; j < k; j++) dst[o++] = src[base + picked[j]];
      }
      return out;
    }
    if (inner < 32) {
      // short blocks: element loop, no per-block calls
      for (let b = 0; b < outer; b++) {
        const base = b * n * inner;
        for (let j = 0; j < k; j++) {
          const s = base + picked[j] * inner;
          for (let e = 0; e < inner; e++) dst[o++] = src[s + e];
        }
      }
      return out;
    }
    for (let b = 0; b < outer; b++) {
      const base = b * n * inner;
      for (let j = 0; j < k; j++) {
        const s = base + picked[j] * inner;
        dst.set(src.subarray(s, s + inner), o);
        o += inner;
      }
    }
    return out;
  };
}

/** LeakyRelu(x, alpha) = Prelu(x, alpha per channel) for float32; the slope tensor is tiny. */
function makeLeakyRelu(previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    const prelu = tf.getKernel("Prelu", WASM);
    if (x.dtype !== "float32" || x.shape.length === 0 || prelu == null) return previous(args);
    const alpha = (attrs as unknown as tf.LeakyReluAttrs).alpha;
    const channels = x.shape[x.shape.length - 1];
    const slope = backend.makeOutput([channels], "float32");
    (backend.typedArrayFromHeap(slope) as Float32Array).fill(alpha);
    try {
      return prelu.kernelFunc({ inputs: { x, alpha: slope }, backend, attrs: {} }) as Info;
    } finally {
      backend.disposeData(slope.dataId);
    }
  };
}

/** Cast to the dtype the tensor already has (tfjs' gradients do this often) shares, like Identity. */
function makeCast(previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    if ((attrs as unknown as tf.CastAttrs).dtype === x.dtype && x.dtype !== "string") return identity(args);
    return previous(args);
  };
}

/**
 * SplitV as block copies: each output takes, per index of the axes before `axis`, one contiguous
 * run of the input. The shipped kernel slices, and wasm's Slice on the channel axis is an element
 * loop (~7 ms per split of [8,24,24,368] in two; the flow's couplings split 3 times per block).
 */
function makeSplit(previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    if (x.dtype === "string" || x.dtype === "complex64") return previous(args);
    const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a);
    return splitBlocks(backend, x, a, sizes);
  };
}

function splitBlocks(backend: BackendWasm, x: Info, a: number, sizes: number[]): Info[] {
  const n = x.shape[a];
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === a ? s : d)), x.dtype));
  const src = backend.typedArrayFromHeap(x);
  let start = 0;
  for (let k = 0; k < sizes.length; k++) {
    const run = sizes[k] * inner;
    const dst = backend.typedArrayFromHeap(outs[k]);
    for (let o = 0; o < outer; o++) {
      const from = (o * n + start) * inner;
      dst.set(src.subarray(from, from + run), o * run);
    }
    start += sizes[k];
  }
  return outs;
}

const FAST: Record<string, (previous: tf.KernelFunc) => tf.KernelFunc> = {
  SplitV: makeSplit,
  Identity: () => identity as unknown as tf.KernelFunc,
  Cast: makeCast,
  GatherV2: makeGather,
  LeakyRelu: makeLeakyRelu,
};
let done = false;

/** Installs the replacements on the wasm backend (idempotent; before or after its init). */
export function registerWasmFastKernels(): string[] {
  const names: string[] = [];
  if (done) return Object.keys(FAST);
  for (const [name, make] of Object.entries(FAST)) {
    const shipped = tf.getKernel(name, WASM);
    if (!shipped) continue;
    tf.unregisterKernel(name, WASM);
    tf.registerKernel({ ...shipped, kernelFunc: make(shipped.kernelFunc) });
    names.push(name);
  }
  done = true;
  return names;
}
