/**
 * Training kernels for the tfjs wasm backend. As shipped it lacks the backward kernels of conv2d,
 * depthwiseConv2d and gather, and two it has are slow (Conv2DBackpropInput ~2.5 GFLOP/s,
 * matMul with transposeA ~1.7 GFLOP/s) and two are wrong (_FusedMatMul with bias and transposeB,
 * MaxPoolGrad).
 * Each kernel here is composed from the backend's own fast
 * XNNPACK kernels (conv, matmul, transpose, pad, slice) so it runs at their speed.
 *
 * Conventions: kernels receive and return TensorInfo; every intermediate TensorInfo is released
 * with `backend.disposeData` so wasm memory stays flat.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type Inputs = Record<string, TensorInfo>;
type KernelFn = (args: { inputs: Inputs; backend: BackendWasm; attrs?: Attrs }) => TensorInfo;
type Pad = number | "same" | "valid" | number[][];

const WASM = "wasm";

/** Calls a kernel currently registered on the wasm backend. */
function run(backend: BackendWasm, kernelName: string, inputs: Inputs, attrs: Attrs = {}): TensorInfo {
  const kernel = tf.getKernel(kernelName, WASM);
  if (kernel == null) throw new Error(`wasm kernel ${kernelName} missing`);
  return (kernel.kernelFunc as unknown as KernelFn)({ inputs, backend, attrs });
}

function release(backend: BackendWasm, ...infos: (TensorInfo | null | undefined)[]): void {
  for (const info of infos) if (info != null) backend.disposeData(info.dataId);
}

const reshape = (b: BackendWasm, x: TensorInfo, shape: number[]) => run(b, "Reshape", { x }, { shape });
const transpose = (b: BackendWasm, x: TensorInfo, perm: number[]) => run(b, "Transpose", { x }, { perm });

/** The Concat kernel takes its inputs as an array, not a named map. */
const concat = (b: BackendWasm, xs: TensorInfo[], axis: number) => run(b, "Concat", xs as unknown as Inputs, { axis });

/**
 * Where H and W sit: NHWC for activations, CNHW for the im2col of the filter gradient (so the
 * patch matrix comes out already transposed).
 */
type Layout = "NHWC" | "CNHW";
const H_AXIS: Record<Layout, number> = { NHWC: 1, CNHW: 2 };

function spatialVector(layout: Layout, hValue: number, wValue: number, fill: number): number[] {
  const v = [fill, fill, fill, fill];
  v[H_AXIS[layout]] = hValue;
  v[H_AXIS[layout] + 1] = wValue;
  return v;
}

function padSpatial(
  b: BackendWasm, x: TensorInfo, layout: Layout, top: number, bottom: number, left: number, right: number,
): TensorInfo {
  const paddings: number[][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
  paddings[H_AXIS[layout]] = [top, bottom];
  paddings[H_AXIS[layout] + 1] = [left, right];
  return run(b, "PadV2", { x }, { paddings, constantValue: 0 });
}

/** x[..., h0 : h0+(outH-1)*sh+1 : sh, w0 : ..., ...] over the layout's H/W axes. */
function strideSlice(
  b: BackendWasm, x: TensorInfo, layout: Layout, h0: number, w0: number, outH: number, outW: number, sh: number, sw: number,
): TensorInfo {
  const begin = spatialVector(layout, h0, w0, 0);
  const size = x.shape.map((d, i) => (i === H_AXIS[layout] ? outH : i === H_AXIS[layout] + 1 ? outW : d));
  if (sh === 1 && sw === 1) return run(b, "Slice", { x }, { begin, size });
  const end = begin.map((_, i) => (i === H_AXIS[layout] ? h0 + (outH - 1) * sh + 1 : i === H_AXIS[layout] + 1 ? w0 + (outW - 1) * sw + 1 : x.shape[i]));
  return run(b, "StridedSlice", { x }, {
    begin, end, strides: spatialVector(layout, sh, sw, 1),
    beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
  });
}

/**
 * Zero-pads x so that every filter tap's strided window fits: rows [-top, needH - top).
 * Returns the padded tensor (or x itself when no padding is needed, with owned=false).
 */
function padForWindows(
  b: BackendWasm, x: TensorInfo, layout: Layout, info: tf.backend_util.Conv2DInfo,
): { padded: TensorInfo; owned: boolean } {
  const h = x.shape[H_AXIS[layout]], w = x.shape[H_AXIS[layout] + 1];
  const { top, left } = info.padInfo;
  const needH = (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1;
  const needW = (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1;
  const bottom = Math.max(0, needH - h - top);
  const right = Math.max(0, needW - w - left);
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return { padded: x, owned: false };
  return { padded: padSpatial(b, x, layout, top, bottom, left, right), owned: true };
}

/** Inserts (s-1) zeros between rows/cols of NHWC dy; returns [B, OH*sh, OW*sw, C] (trailing zeros kept). */
function dilateWithTrailingZeros(b: BackendWasm, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [batch, oh, ow, c] = dy.shape;
  const six = reshape(b, dy, [batch, oh, 1, ow, 1, c]);
  const padded = run(b, "PadV2", { x: six }, {
    paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
    constantValue: 0,
  });
  const out = reshape(b, padded, [batch, oh * sh, ow * sw, c]);
  release(b, six, padded);
  return out;
}

/**
 * The "full" correlation that turns dy into dx: dy dilated by the stride, padded so a
 * stride-1 correlation with the spatially flipped filter yields exactly [H, W].
 * Returns null when the geometry needs negative padding (caller falls back).
 */
function prepareBackpropInput(
  b: BackendWasm, dy: TensorInfo, info: tf.backend_util.Conv2DInfo,
): { dyDilated: TensorInfo; pads: number[][] } | null {
  const { strideHeight: sh, strideWidth: sw, padInfo, inHeight: h, inWidth: w } = info;
  const effH = (info.filterHeight - 1) * info.dilationHeight + 1;
  const effW = (info.filterWidth - 1) * info.dilationWidth + 1;
  const top = effH - 1 - padInfo.top;
  const left = effW - 1 - padInfo.left;
  // A dilated dy of length (OH-1)*s+1 padded by top/bottom must give H outputs.
  let bottom = h - ((info.outHeight - 1) * sh + 1) - top + effH - 1;
  let right = w - ((info.outWidth - 1) * sw + 1) - left + effW - 1;
  if (top < 0 || left < 0) return null;
  if (sh === 1 && sw === 1) {
    if (bottom < 0 || right < 0) return null;
    b.incRef(dy.dataId);
    return { dyDilated: { ...dy }, pads: [[0, 0], [top, bottom], [left, right], [0, 0]] };
  }
  // The dilation appends (s-1) zero rows/cols; they stand in for that much bottom/right padding.
  bottom -= sh - 1;
  right -= sw - 1;
  let dyDilated = dilateWithTrailingZeros(b, dy, sh, sw);
  if (bottom < 0 || right < 0) {
    const [batch, hh, ww, c] = dyDilated.shape;
    const cropH = Math.min(0, bottom), cropW = Math.min(0, right);
    if (hh + cropH <= 0 || ww + cropW <= 0) {
      release(b, dyDilated);
      return null;
    }
    const cropped = run(b, "Slice", { x: dyDilated }, { begin: [0, 0, 0, 0], size: [batch, hh + cropH, ww + cropW, c] });
    release(b, dyDilated);
    dyDilated = cropped;
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  return { dyDilated, pads: [[0, 0], [top, bottom], [left, right], [0, 0]] };
}

function conv2dInfo(xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean): tf.backend_util.Conv2DInfo {
  const dataFormat = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as "NHWC" | "NCHW") ?? "NHWC");
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number]) ?? 1,
    attrs.pad as Pad as "same",
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    depthwise,
    dataFormat,
  );
}

function assertChannelsLast(info: tf.backend_util.Conv2DInfo, kernelName: string): void {
  if (info.dataFormat !== "channelsLast") throw new Error(`wasm ${kernelName}: only NHWC (channelsLast) is supported`);
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW[(kh,kw,ci), co] = sum_n colsT[(kh,kw,ci), n] * dy[n, co], one matmul
// of a transposed im2col matrix (strided slices of the padded input) with dy.

function conv2DBackpropFilter({ inputs, backend: b, attrs = {} }: Parameters<KernelFn>[0]): TensorInfo {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as number[];
  const info = conv2dInfo(x.shape, filterShape, attrs, false);
  assertChannelsLast(info, "Conv2DBackpropFilter");
  const { batchSize, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const n = batchSize * oh * ow;
  const k = info.filterHeight * info.filterWidth * info.inChannels;

  const colsT = im2colTransposed(b, x, info); // [k, n]
  const colsT3 = reshape(b, colsT, [1, k, n]);
  const dy3 = reshape(b, dy, [1, n, co]);
  // Plain matmul (no transposeA slow path); dy as the small packed operand.
  const g = run(b, "BatchMatMul", { a: colsT3, b: dy3 }, { transposeA: false, transposeB: false }); // [1, k, co]
  const out = reshape(b, g, filterShape);
  release(b, colsT, colsT3, dy3, g);
  return out;
}

/**
 * The transposed patch matrix [KH*KW*Ci, B*OH*OW], row order (kh, kw, ci) = HWIO filter order.
 * Built from a CNHW copy of x so each tap's window is one contiguous block of rows.
 */
function im2colTransposed(b: BackendWasm, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, inChannels: ci } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const xc = transpose(b, x, [3, 0, 1, 2]);
  const { padded, owned } = padForWindows(b, xc, "CNHW", info);
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) taps.push(strideSlice(b, padded, "CNHW", i * dh, j * dw, oh, ow, sh, sw));
  }
  if (owned) release(b, padded);
  release(b, xc);
  const patches = taps.length === 1 ? taps[0] : concat(b, taps, 0); // [kh*kw*ci, B, OH, OW]
  const colsT = reshape(b, patches, [kh * kw * ci, batchSize * oh * ow]);
  if (taps.length > 1) release(b, ...taps);
  release(b, patches);
  return colsT;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput: dx = stride-1 conv of the stride-dilated dy with the flipped filter whose
// in/out channels are swapped. XNNPACK's conv runs this ~10x faster than the shipped kernel.

function makeConv2DBackpropInput(original: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend: b, attrs = {} } = args;
    const { dy, filter } = inputs;
    const inputShape = attrs.inputShape as number[];
    const info = conv2dInfo(inputShape, filter.shape, attrs, false);
    if (info.dataFormat !== "channelsLast") return original(args);
    const prepared = prepareBackpropInput(b, dy, info);
    if (prepared == null) return original(args);
    const flipped = run(b, "Reverse", { x: filter }, { dims: [0, 1] });
    const filterT = transpose(b, flipped, [0, 1, 3, 2]); // [kh, kw, co, ci]
    const dx = run(b, "Conv2D", { x: prepared.dyDilated, filter: filterT }, {
      strides: [1, 1], pad: prepared.pads, dataFormat: "NHWC", dilations: [1, 1], dimRoundingMode: undefined,
    });
    release(b, prepared.dyDilated, flipped, filterT);
    return dx;
  };
}

// ---------------------------------------------------------------------------------------------
// Depthwise conv backward. Filter [kh, kw, c, m]; dy channel index is c*m + j.

function depthwiseBackpropInput({ inputs, backend: b, attrs = {} }: Parameters<KernelFn>[0]): TensorInfo {
  const { dy, filter } = inputs;
  const inputShape = attrs.inputShape as number[];
  const info = conv2dInfo(inputShape, filter.shape, attrs, true);
  assertChannelsLast(info, "DepthwiseConv2dNativeBackpropInput");
  const [kh, kw, c, m] = filter.shape;
  const prepared = prepareBackpropInput(b, dy, info);
  if (prepared == null) {
    throw new Error(`wasm DepthwiseConv2dNativeBackpropInput: unsupported padding ${JSON.stringify(attrs.pad)}`);
  }
  const flipped = run(b, "Reverse", { x: filter }, { dims: [0, 1] });
  const perChannel = reshape(b, flipped, [kh, kw, c * m, 1]);
  const z = run(b, "DepthwiseConv2dNative", { x: prepared.dyDilated, filter: perChannel }, {
    strides: [1, 1], pad: prepared.pads, dilations: [info.dilationHeight, info.dilationWidth], dimRoundingMode: undefined,
  });
  release(b, prepared.dyDilated, flipped, perChannel);
  if (m === 1) return z;
  const [batch, h, w] = z.shape;
  const z5 = reshape(b, z, [batch, h, w, c, m]);
  const dx = run(b, "Sum", { x: z5 }, { axis: [4], keepDims: false });
  release(b, z, z5);
  return dx;
}

function depthwiseBackpropFilter({ inputs, backend: b, attrs = {} }: Parameters<KernelFn>[0]): TensorInfo {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as number[];
  const info = conv2dInfo(x.shape, filterShape, attrs, true);
  assertChannelsLast(info, "DepthwiseConv2dNativeBackpropFilter");
  const [kh, kw, c, m] = filterShape;
  const { outHeight: oh, outWidth: ow, batchSize } = info;
  const n = batchSize * oh * ow;
  const { padded, owned } = padForWindows(b, x, "NHWC", info);
  const dyNcm = reshape(b, dy, [n, c, m]);
  const perTap: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // Per filter tap: sum over batch and output positions of x_window * dy (memory bound).
      const win = strideSlice(b, padded, "NHWC", i * info.dilationHeight, j * info.dilationWidth, oh, ow, info.strideHeight, info.strideWidth);
      const win3 = reshape(b, win, [n, c, 1]);
      const prod = run(b, "Multiply", { a: win3, b: dyNcm });
      perTap.push(run(b, "Sum", { x: prod }, { axis: [0], keepDims: true })); // [1, c, m]
      release(b, win, win3, prod);
    }
  }
  if (owned) release(b, padded);
  const all = perTap.length === 1 ? perTap[0] : concat(b, perTap, 0);
  const out = reshape(b, all, filterShape);
  if (perTap.length > 1) release(b, ...perTap);
  release(b, dyNcm, all);
  return out;
}

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum (the gradient of gather): a scatter-add loop over the wasm heap. Segment ids
// outside [0, numSegments) are dropped, as in TensorFlow.

function unsortedSegmentSum({ inputs, backend: b, attrs = {} }: Parameters<KernelFn>[0]): TensorInfo {
  const { x, segmentIds } = inputs;
  const numSegments = attrs.numSegments as number;
  const numIds = tf.util.sizeFromShape(segmentIds.shape);
  const inner = numIds === 0 ? 0 : tf.util.sizeFromShape(x.shape) / numIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = b.makeOutput(outShape, x.dtype);
  // Views taken after makeOutput: an allocation may grow (and so replace) the heap buffer.
  const xs = b.typedArrayFromHeap(x);
  const ids = b.typedArrayFromHeap(segmentIds);
  const acc = b.typedArrayFromHeap(out);
  acc.fill(0);
  for (let i = 0; i < numIds; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) acc[dst + j] += xs[src + j];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad: the shipped kernel drops the gradient of some windows (e.g. 2x2/2 'valid' on
// [2,6,6,4]: 3 of 72 windows get none). This routes dy to the first maximum of each window, as
// the cpu backend does, in a JS loop over the heap (channels innermost, for contiguous reads).

function maxPoolGrad({ inputs, backend: b, attrs = {} }: Parameters<KernelFn>[0]): TensorInfo {
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
  );
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const dx = b.makeOutput(input.shape, "float32");
  const xs = b.typedArrayFromHeap(input);
  const dys = b.typedArrayFromHeap(dy);
  const out = b.typedArrayFromHeap(dx);
  out.fill(0);
  const best = new Float32Array(c);
  const bestAt = new Int32Array(c);
  for (let n = 0; n < batchSize; n++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let i = 0; i < fh; i += dh) {
          const y = r * sh - top + i;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < fw; j += dw) {
            const x = q * sw - left + j;
            if (x < 0 || x >= w) continue;
            const base = ((n * h + y) * w + x) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xs[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                bestAt[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((n * oh + r) * ow + q) * c;
        for (let ch = 0; ch < c; ch++) if (bestAt[ch] >= 0) out[bestAt[ch]] += dys[dyBase + ch];
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------
// matMul with transposeA: transpose explicitly, then the fast (non-transposed) path.

function swapLastTwo(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function makeTransposeAFirst(original: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend: b, attrs = {} } = args;
    if (!attrs.transposeA) return original(args);
    const a = inputs.a;
    const aT = transpose(b, a, swapLastTwo(a.shape.length));
    const out = original({ inputs: { ...inputs, a: aT }, backend: b, attrs: { ...attrs, transposeA: false } });
    release(b, aT);
    return out;
  };
}

/**
 * _FusedMatMul: as above, and also transposes b explicitly when there is a bias, because the
 * shipped kernel adds the bias wrongly with transposeB=true (tfjs-backend-wasm 4.22.0).
 */
function makeFusedMatMul(original: KernelFn): KernelFn {
  const transposeAFirst = makeTransposeAFirst(original);
  return (args) => {
    const { inputs, backend: b, attrs = {} } = args;
    if (!(attrs.transposeB && inputs.bias != null)) return transposeAFirst(args);
    const bT = transpose(b, inputs.b, swapLastTwo(inputs.b.shape.length));
    const out = transposeAFirst({ inputs: { ...inputs, b: bT }, backend: b, attrs: { ...attrs, transposeB: false } });
    release(b, bT);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------

interface KernelPlan {
  kernelName: string;
  /** "add" = missing on wasm; "replace" = wraps the shipped kernel (kept as fallback). */
  mode: "add" | "replace";
  make: (original: KernelFn | null) => KernelFn;
}

const PLANS: KernelPlan[] = [
  { kernelName: "Conv2DBackpropFilter", mode: "add", make: () => conv2DBackpropFilter },
  { kernelName: "DepthwiseConv2dNativeBackpropInput", mode: "add", make: () => depthwiseBackpropInput },
  { kernelName: "DepthwiseConv2dNativeBackpropFilter", mode: "add", make: () => depthwiseBackpropFilter },
  { kernelName: "UnsortedSegmentSum", mode: "add", make: () => unsortedSegmentSum },
  { kernelName: "MaxPoolGrad", mode: "replace", make: () => maxPoolGrad },
  { kernelName: "Conv2DBackpropInput", mode: "replace", make: (orig) => makeConv2DBackpropInput(orig!) },
  { kernelName: "BatchMatMul", mode: "replace", make: (orig) => makeTransposeAFirst(orig!) },
  { kernelName: "_FusedMatMul", mode: "replace", make: (orig) => makeFusedMatMul(orig!) },
];

const installed: string[] = [];

/**
 * Registers the training kernels on the wasm backend (idempotent). Safe before or after the
 * backend is initialised: a replaced kernel keeps the shipped kernel's setupFunc, which binds
 * the wasm function the fallback path calls. Returns e.g. ["Conv2DBackpropFilter (added)", ...].
 */
export function registerWasmTrainingKernels(): string[] {
  if (installed.length > 0) return [...installed];
  for (const plan of PLANS) {
    const shipped = tf.getKernel(plan.kernelName, WASM);
    if (plan.mode === "add" && shipped != null) continue; // a future tfjs may ship it
    if (plan.mode === "replace" && shipped == null) continue;
    const kernelFunc = plan.make(shipped ? (shipped.kernelFunc as unknown as KernelFn) : null);
    if (shipped) tf.unregisterKernel(plan.kernelName, WASM);
    tf.registerKernel({
      kernelName: plan.kernelName,
      backendName: WASM,
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      setupFunc: shipped?.setupFunc,
      disposeFunc: shipped?.disposeFunc,
    });
    installed.push(`${plan.kernelName} (${plan.mode === "add" ? "added" : "replaced"})`);
  }
  return [...installed];
}
