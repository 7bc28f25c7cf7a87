/**
 * Native kernels for the tfjs wasm backend, through Deno FFI, reading and writing the tensors in
 * place in the wasm heap (no copies): Conv2D, FusedConv2D, Conv2DBackpropInput and
 * Conv2DBackpropFilter on a ConvolutionLibrary (oneDNN, or OpenBLAS im2col + SGEMM; library.ts),
 * with oneDNN also the depthwise forward (DepthwiseConv2dNative, FusedDepthwiseConv2D; ~3x
 * XNNPACK-in-wasm on EfficientNet's; their gradients stay wasm's),
 * and, where OpenBLAS loads, Sum / Mean over leading or trailing axes as SGEMV; with oneDNN,
 * Exp / Tanh / Sigmoid on its vectorised elementwise primitives and SplitV / Concat as its
 * block-copy reorders. Every other kernel stays the wasm backend's own. Cases the native path
 * does not cover (NCHW, non-float32, empty forward inputs) call the kernel registered before.
 *
 * Why: XNNPACK-in-wasm reaches ~35-45 GFLOP/s on the student's 3x3 convolutions on 2 cores,
 * OpenBLAS' AVX-512 SGEMM ~150-300, oneDNN ~300-360 (tools/bench/measure_native_conv.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { Blas } from "./openblas.ts";
import type { ConvGeometry } from "./im2col_conv.ts";
import type { ConvolutionLibrary, OneDnnExtras } from "./library.ts";
import type { EltwiseName, OneDnnEltwise } from "./onednn/eltwise.ts";
import type { OneDnnBlockCopy } from "./onednn/reorder.ts";
import { registeredFusedMath } from "../js/fused_state.ts";
import { CONV2D_BF16_INPUT, type Conv2dBf16InputAttrs } from "../../ops/packed_bf16.ts";

const WASM = "wasm";
type Info = tf.TensorInfo;
type Conv4 = [number, number, number, number];
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: tf.NamedAttrMap };

/** Allocates the float32 output in the wasm heap. Views are taken after it: allocation can grow (and detach) the heap. */
function alloc(backend: BackendWasm, shape: number[]): Info {
  return backend.makeOutput(shape, "float32");
}

function view(backend: BackendWasm, t: Info): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function usable(dataFormat: unknown, ...ts: Info[]): boolean {
  return (dataFormat == null || dataFormat === "NHWC") && ts.every((t) => t.dtype === "float32");
}

function geometry(
  xShape: Conv4, filterShape: Conv4, strides: number | [number, number], dilations: number | [number, number],
  pad: tf.Conv2DAttrs["pad"], dimRoundingMode: tf.Conv2DAttrs["dimRoundingMode"], depthwise = false,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise, "channelsLast");
}

/**
 * conv (+ bias when given and the library fuses it) into a new output; null: not covered.
 * `depthwise`: tfjs' depthwise convolution (filter [kh, kw, C, multiplier]; the library must
 * have depthwiseForward).
 */
function convInto(
  lib: ConvolutionLibrary, backend: BackendWasm, x: Info, filter: Info, attrs: tf.Conv2DAttrs, bias?: Info, depthwise = false,
): Info | null {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  if (!usable(dataFormat, x, filter) || tf.util.sizeFromShape(x.shape) === 0 || tf.util.sizeFromShape(filter.shape) === 0) return null;
  if (depthwise && (!lib.depthwiseForward || filter.shape[2] !== x.shape[3])) return null;
  const info = geometry(x.shape as Conv4, filter.shape as Conv4, strides, dilations ?? 1, pad, dimRoundingMode, depthwise);
  const out = alloc(backend, info.outShape);
  if (info.outShape.every((d) => d > 0)) {
    const g = info as ConvGeometry;
    if (depthwise) lib.depthwiseForward!(g, view(backend, x), view(backend, filter), view(backend, out), bias ? view(backend, bias) : undefined);
    else if (bias) lib.forwardBias!(g, view(backend, x), view(backend, filter), view(backend, bias), view(backend, out));
    else lib.forward(g, view(backend, x), view(backend, filter), view(backend, out));
  } else if (bias) {
    view(backend, out).fill(0); // empty output: nothing to add
  }
  return out;
}

function conv2dKernel(lib: ConvolutionLibrary, previous: tf.KernelFunc, depthwise = false): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter } = inputs as { x: Info; filter: Info };
    return convInto(lib, backend, x, filter, attrs as unknown as tf.Conv2DAttrs, undefined, depthwise) ?? previous(args);
  };
}

type Activation = (x: Info, backend: BackendWasm, alpha?: Info, leak?: number) => Info;

function wasmKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, WASM);
  if (!k) throw new Error(`wasm kernel ${name} missing`);
  return k.kernelFunc;
}

/**
 * Conv natively (with the bias when the library fuses it and the bias is one value per output
 * channel), then the wasm backend's own bias add and activation.
 */
function fusedConv2dKernel(lib: ConvolutionLibrary, previous: tf.KernelFunc, depthwise = false): tf.KernelFunc {
  const unary = (name: string): Activation => (x, backend) => wasmKernel(name)({ inputs: { x }, backend }) as Info;
  const activations: Record<string, Activation> = {
    relu: unary("Relu"),
    relu6: unary("Relu6"),
    elu: unary("Elu"),
    sigmoid: unary("Sigmoid"),
    prelu: (x, backend, alpha) => wasmKernel("Prelu")({ inputs: { x, alpha: alpha! }, backend }) as Info,
    leakyrelu: (x, backend, _a, leak) => wasmKernel("LeakyRelu")({ inputs: { x }, backend, attrs: { alpha: leak ?? 0.2 } }) as Info,
  };
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const act = a.activation && a.activation !== "linear" ? a.activation : null;
    if (!usable(a.dataFormat, x!, filter!) || (act && !(act in activations))) return previous(args);
    const outChannels = depthwise ? filter!.shape[2] * filter!.shape[3] : filter!.shape[3];
    const fuseBias = bias != null && (depthwise || lib.forwardBias != null) && bias.dtype === "float32" && bias.shape.length === 1 &&
      bias.shape[0] === outChannels;
    const conv = convInto(lib, backend, x!, filter!, a, fuseBias ? bias : undefined, depthwise);
    if (!conv) return previous(args);
    let result = conv;
    if (bias && !fuseBias) {
      const old = result;
      result = wasmKernel("Add")({ inputs: { a: result, b: bias }, backend }) as Info;
      backend.disposeData(old.dataId);
    }
    if (act) {
      // relu / relu6 / leaky relu in place on the fresh output with the fused library (one
      // vectorised pass; the wasm kernels cost ~0.8 ms per call even on small maps)
      const inPlace = registeredFusedMath(WASM);
      if (inPlace && (act === "relu" || act === "relu6" || act === "leakyrelu")) {
        inPlace.activationInPlace(view(backend, result), act, a.leakyreluAlpha ?? 0.2);
      } else {
        const old = result;
        result = activations[act](result, backend, preluActivationWeights, a.leakyreluAlpha);
        backend.disposeData(old.dataId);
      }
    }
    return result;
  };
}

function backpropInputKernel(lib: ConvolutionLibrary, previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (!usable(dataFormat, dy, filter)) return previous(args);
    const info = geometry(inputShape, filter.shape as Conv4, strides, 1, pad, dimRoundingMode);
    const out = alloc(backend, info.inShape);
    const dx = view(backend, out);
    if (dy.shape.every((d) => d > 0)) lib.backwardData(info as ConvGeometry, view(backend, dy), view(backend, filter), dx);
    else dx.fill(0);
    return out;
  };
}

function backpropFilterKernel(lib: ConvolutionLibrary, previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (!usable(dataFormat, x, dy)) return previous(args);
    const info = geometry(x.shape as Conv4, filterShape, strides, 1, pad, dimRoundingMode);
    const out = alloc(backend, filterShape);
    const dw = view(backend, out);
    if (dy.shape.every((d) => d > 0)) lib.backwardWeights(info as ConvGeometry, view(backend, x), view(backend, dy), dw);
    else dw.fill(0);
    return out;
  };
}

/**
 * Sum / Mean over a leading or a trailing run of axes (bias and BatchNorm gradients reduce
 * [N,H,W,C] over N,H,W) as one SGEMV with a constant vector: the shipped wasm reduction
 * transposes first and is ~20x slower there. Other axis sets, and non-float32, use `previous`.
 */
let onesVector = new Float32Array(0);
/** n ones (one buffer, grown as needed and never refilled: the SGEMVs' constant vector) */
function ones(n: number): Float32Array {
  if (onesVector.length < n) onesVector = new Float32Array(n).fill(1);
  return onesVector.subarray(0, n);
}

function reduceKernel(blas: Blas, previous: tf.KernelFunc, mean: boolean): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    if (x.dtype !== "float32" || x.shape.length === 0) return previous(args);
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const r = x.shape.length, k = axes.length;
    const leading = k > 0 && axes.every((a, i) => a === i);
    const trailing = k > 0 && axes.every((a, i) => a === r - k + i);
    if (!leading && !trailing) return previous(args);
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const count = tf.util.sizeFromShape(reduceShape);
    const kept = tf.util.sizeFromShape(outShape);
    const out = alloc(backend, keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape);
    const y = view(backend, out);
    if (count === 0) y.fill(mean ? NaN : 0);
    else if (kept > 0) {
      // leading: x is [count, kept], y = x^T ones; trailing: x is [kept, count], y = x ones
      const alpha = mean ? 1 / count : 1;
      if (leading) blas.sgemv(true, count, kept, view(backend, x), ones(count), y, alpha);
      else blas.sgemv(false, kept, count, view(backend, x), ones(count), y, alpha);
    }
    return out;
  };
}

/** Unary float32 kernels on oneDNN's vectorised elementwise primitives (wasm's are scalar loops). */
/** True when x may hold a NaN: its SGEMV sum is NaN (also for +inf and -inf together; then the caller scans). */
const sumOut = new Float32Array(1);
function mayHoldNaN(blas: Blas | null, x: Float32Array): boolean {
  if (!blas) return true;
  blas.sgemv(false, 1, x.length, x, ones(x.length), sumOut);
  return Number.isNaN(sumOut[0]);
}

function eltwiseKernel(eltwise: OneDnnEltwise, blas: Blas | null, fn: EltwiseName, previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    if (x.dtype !== "float32") return previous(args);
    const out = alloc(backend, x.shape);
    const xv = view(backend, x), yv = view(backend, out);
    eltwise.apply(fn, xv, yv);
    // oneDNN's exp maps NaN to +inf; NaN must stay NaN (training stops on it with a clear error)
    if (mayHoldNaN(blas, xv)) for (let i = 0; i < xv.length; i++) if (xv[i] !== xv[i]) yv[i] = NaN;
    return out;
  };
}

/**
 * Measured against the cpu backend over [-20, 20]: exp, tanh, sigmoid within 3e-7 relative
 * (a few ulp). Not log: oneDNN's is off by up to 4e-6 absolute near 1, so Log stays wasm's.
 */
const ELTWISE_KERNELS: Record<string, EltwiseName> = { Exp: "exp", Tanh: "tanh", Sigmoid: "logistic" };
/** [product of the axes before `axis`, the rest]: the 2-D view splits and concats copy blocks of. */
function rowsOf(shape: number[], axis: number): number {
  return shape.slice(0, axis).reduce((p, d) => p * d, 1);
}

/** SplitV as oneDNN block copies (float32; others, and splits along axis 0, use `previous`). */
function splitKernel(copy: OneDnnBlockCopy, previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x as Info;
    const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const rows = rowsOf(x.shape, a);
    if (x.dtype !== "float32" || rows === 1) return previous(args); // axis 0: contiguous, the JS copy is one call
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a);
    const inner = tf.util.sizeFromShape(x.shape.slice(a + 1));
    const cols = x.shape[a] * inner;
    const outs = sizes.map((n) => alloc(backend, x.shape.map((d, i) => (i === a ? n : d))));
    const src = view(backend, x);
    let start = 0;
    sizes.forEach((n, k) => {
      copy.copy("take", rows, cols, start * inner, n * inner, src, view(backend, outs[k]));
      start += n;
    });
    return outs;
  };
}

/** Concat as oneDNN block copies (float32, axis > 0); others use `previous`. */
function concatKernel(copy: OneDnnBlockCopy, previous: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const xs = Object.values(inputs) as Info[];
    if (xs.length === 0 || xs.some((t) => t.dtype !== "float32")) return previous(args);
    const a = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, xs[0].shape)[0];
    const rows = rowsOf(xs[0].shape, a);
    if (rows === 1) return previous(args);
    const outShape = tf.backend_util.computeOutShape(xs.map((t) => t.shape), a);
    const inner = tf.util.sizeFromShape(outShape.slice(a + 1));
    const cols = outShape[a] * inner;
    const out = alloc(backend, outShape);
    const dst = view(backend, out);
    let start = 0;
    for (const t of xs) {
      const n = t.shape[a];
      if (n > 0 && inner > 0) copy.copy("put", rows, cols, start * inner, n * inner, dst, view(backend, t));
      start += n;
    }
    return out;
  };
}

/**
 * AstConv2DBf16Input (lib/ops/packed_bf16.ts): x is an int32 [B,H,W,C/2] tensor of bf16 pairs,
 * handed to the library as its bf16 bits.
 */
function packedBf16ConvKernel(lib: ConvolutionLibrary): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter, bias } = inputs as { x: Info; filter: Info; bias?: Info };
    const { channels, strides, pad, depthwise } = attrs as unknown as Conv2dBf16InputAttrs;
    if (x.dtype !== "int32" || x.shape.length !== 4 || x.shape[3] * 2 !== channels) {
      throw new Error(`${CONV2D_BF16_INPUT}: x must be int32 [B,H,W,${channels / 2}] (bf16 pairs of ${channels} channels), got ${x.dtype} [${x.shape}]`);
    }
    if (filter.dtype !== "float32" || (bias && bias.dtype !== "float32")) throw new Error(`${CONV2D_BF16_INPUT}: float32 filter and bias expected`);
    if (depthwise && filter.shape[2] !== channels) throw new Error(`${CONV2D_BF16_INPUT}: depthwise filter [${filter.shape}] for ${channels} channels`);
    const xShape: Conv4 = [x.shape[0], x.shape[1], x.shape[2], channels];
    const info = geometry(xShape, filter.shape as Conv4, strides, 1, pad, undefined, depthwise);
    const outChannels = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) throw new Error(`${CONV2D_BF16_INPUT}: bias [${bias.shape}] for ${outChannels} output channels`);
    const out = alloc(backend, info.outShape);
    if (info.outShape.every((d) => d > 0) && tf.util.sizeFromShape(xShape) > 0) {
      const xv = backend.typedArrayFromHeap(x) as Int32Array;
      const x16 = new Uint16Array(xv.buffer, xv.byteOffset, xv.length * 2);
      lib.forwardBf16Input!(info as ConvGeometry, x16, view(backend, filter), view(backend, out), bias ? view(backend, bias) : undefined, depthwise);
    } else view(backend, out).fill(0);
    return out;
  };
}

let packedBf16Registered = false;

/**
 * Registers AstConv2DBf16Input on the wasm backend (`on`, when the active library reads bf16
 * inputs) or removes it. lib/backend/precision.ts turns it on while the convolutions run in bf16
 * only: the ops pack maps for them exactly when they have a kernel for it (packedBf16Available).
 */
export function setPackedBf16Convolutions(on: boolean): boolean {
  if (packedBf16Registered) tf.unregisterKernel(CONV2D_BF16_INPUT, WASM);
  packedBf16Registered = false;
  const lib = active?.lib;
  if (on && lib?.forwardBf16Input) {
    tf.registerKernel({ kernelName: CONV2D_BF16_INPUT, backendName: WASM, kernelFunc: packedBf16ConvKernel(lib) });
    packedBf16Registered = true;
  }
  return packedBf16Registered;
}

const REPLACED = [
  "Conv2D", "FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative", "FusedDepthwiseConv2D",
  "Sum", "Mean", "Exp", "Tanh", "Sigmoid", "SplitV", "Concat",
] as const;
type Replaced = (typeof REPLACED)[number];
let saved: tf.KernelConfig[] | null = null;
export interface NativeKernels {
  lib: ConvolutionLibrary;
  blas: Blas | null;
  onednn: OneDnnExtras | null;
}
let active: NativeKernels | null = null;

/** What the wasm backend's native kernels run on now, or null (its own kernels). */
export function nativeConvolutionsActive(): NativeKernels | null {
  return active;
}

/**
 * Replaces the wasm backend's convolution kernels by `lib`'s, Sum / Mean by SGEMV when `blas`
 * is given, and Exp / Tanh / Sigmoid, SplitV and Concat by oneDNN's when `onednn` is given. Call after the wasm backend has initialised: the kernels replaced keep their setup
 * (already run) and stay reachable as fallbacks. A second call switches the library;
 * `restoreWasmConvolutions()` puts the backend's own kernels back.
 */
export function useNativeConvolutions(lib: ConvolutionLibrary, blas: Blas | null = null, onednn: OneDnnExtras | null = null): void {
  restoreWasmConvolutions();
  const previous = REPLACED.map((name) => {
    const k = tf.getKernel(name, WASM);
    if (!k) throw new Error(`wasm kernel ${name} missing: register the wasm training kernels first`);
    return k;
  });
  const byName = Object.fromEntries(previous.map((k) => [k.kernelName, k.kernelFunc])) as Record<Replaced, tf.KernelFunc>;
  const replacements: Partial<Record<Replaced, tf.KernelFunc>> = {
    Conv2D: conv2dKernel(lib, byName.Conv2D),
    FusedConv2D: fusedConv2dKernel(lib, byName.FusedConv2D),
    Conv2DBackpropInput: backpropInputKernel(lib, byName.Conv2DBackpropInput),
    Conv2DBackpropFilter: backpropFilterKernel(lib, byName.Conv2DBackpropFilter),
    ...(lib.depthwiseForward
      ? {
        DepthwiseConv2dNative: conv2dKernel(lib, byName.DepthwiseConv2dNative, true),
        FusedDepthwiseConv2D: fusedConv2dKernel(lib, byName.FusedDepthwiseConv2D, true),
      }
      : {}),
    ...(blas ? { Sum: reduceKernel(blas, byName.Sum, false), Mean: reduceKernel(blas, byName.Mean, true) } : {}),
    ...(onednn
      ? Object.fromEntries(Object.entries(ELTWISE_KERNELS).map(([k, fn]) => [k, eltwiseKernel(onednn.eltwise, blas, fn, byName[k as Replaced])]))
      : {}),
    ...(onednn ? { SplitV: splitKernel(onednn.copy, byName.SplitV), Concat: concatKernel(onednn.copy, byName.Concat) } : {}),
  };
  for (const k of previous) {
    const replacement = replacements[k.kernelName as Replaced];
    if (!replacement) continue;
    tf.unregisterKernel(k.kernelName, WASM);
    tf.registerKernel({ kernelName: k.kernelName, backendName: WASM, kernelFunc: replacement });
  }
  saved = previous;
  active = { lib, blas, onednn };
}

/** Puts the wasm backend's own convolution (and reduction) kernels back (tests compare them). */
export function restoreWasmConvolutions(): void {
  setPackedBf16Convolutions(false);
  if (!saved) return;
  for (const k of saved) {
    tf.unregisterKernel(k.kernelName, WASM);
    tf.registerKernel(k);
  }
  saved = null;
  active = null;
}
