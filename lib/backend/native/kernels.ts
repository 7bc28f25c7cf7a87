/**
 * The `native` tfjs backend: the plain cpu backend (tensors are JS typed arrays, so FFI calls
 * read and write them in place, no copies) with its convolution kernels replaced by OpenBLAS
 * im2col + SGEMM (conv.ts): Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter.
 * Every other kernel is the cpu backend's own. Cases the native path does not cover (NCHW,
 * non-float32) run the cpu kernels. The `cpu` backend itself is left unchanged, so tests can
 * compare the two in one process.
 */
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { Blas } from "./openblas.ts";
import { type ConvGeometry, conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./conv.ts";

export const NATIVE_BACKEND = "native";

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };

function values(backend: MathBackendCPU, t: Info): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

function cpuKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, "cpu");
  if (!k) throw new Error(`cpu kernel ${name} missing`);
  return k.kernelFunc;
}

function usable(dataFormat: unknown, ...ts: Info[]): boolean {
  return (dataFormat == null || dataFormat === "NHWC") && ts.every((t) => t.dtype === "float32");
}

function conv2dKernel(blas: Blas): tf.KernelFunc {
  const fallback = cpuKernel("Conv2D");
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter } = inputs as { x: Info; filter: Info };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    if (!usable(dataFormat, x, filter)) return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, dilations, pad, dimRoundingMode, false, "channelsLast",
    );
    const y = conv2dForward(blas, values(backend, x), values(backend, filter), info as ConvGeometry);
    return backend.makeTensorInfo(info.outShape, "float32", y);
  };
}

/** Conv natively, then the cpu backend's own bias add and activation (as its FusedConv2D does). */
function fusedConv2dKernel(blas: Blas): tf.KernelFunc {
  const fallback = cpuKernel("FusedConv2D");
  const conv = conv2dKernel(blas);
  const add = cpuKernel("Add");
  const activations: Record<string, (x: Info, backend: MathBackendCPU, alpha?: Info, leak?: number) => Info> = {
    linear: (x, backend) => cpuKernel("Identity")({ inputs: { x }, backend }) as Info,
    relu: (x, backend) => cpuKernel("Relu")({ inputs: { x }, backend }) as Info,
    relu6: (x, backend) => cpuKernel("Relu6")({ inputs: { x }, backend }) as Info,
    elu: (x, backend) => cpuKernel("Elu")({ inputs: { x }, backend }) as Info,
    sigmoid: (x, backend) => cpuKernel("Sigmoid")({ inputs: { x }, backend }) as Info,
    prelu: (x, backend, alpha) => cpuKernel("Prelu")({ inputs: { x, alpha: alpha! }, backend }) as Info,
    leakyrelu: (x, backend, _a, leak) => cpuKernel("LeakyRelu")({ inputs: { x }, backend, attrs: { alpha: leak ?? 0.2 } }) as Info,
  };
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    if (!usable(a.dataFormat, x!, filter!) || (a.activation && !(a.activation in activations))) return fallback(args);
    let result = conv({ inputs: { x: x!, filter: filter! }, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    if (bias) {
      const old = result;
      result = add({ inputs: { a: result, b: bias }, backend }) as Info;
      backend.disposeIntermediateTensorInfo(old);
    }
    if (a.activation) {
      const old = result;
      result = activations[a.activation](result, backend, preluActivationWeights, a.leakyreluAlpha);
      backend.disposeIntermediateTensorInfo(old);
    }
    return result;
  };
}

function backpropInputKernel(blas: Blas): tf.KernelFunc {
  const fallback = cpuKernel("Conv2DBackpropInput");
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (!usable(dataFormat, dy, filter)) return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, "channelsLast",
    );
    const dx = conv2dBackpropInput(blas, values(backend, dy), values(backend, filter), info as ConvGeometry);
    return backend.makeTensorInfo(info.inShape, "float32", dx);
  };
}

function backpropFilterKernel(blas: Blas): tf.KernelFunc {
  const fallback = cpuKernel("Conv2DBackpropFilter");
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { x, dy } = inputs as { x: Info; dy: Info };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (!usable(dataFormat, x, dy)) return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, "channelsLast",
    );
    const dw = conv2dBackpropFilter(blas, values(backend, x), values(backend, dy), info as ConvGeometry);
    return backend.makeTensorInfo(filterShape, "float32", dw);
  };
}

let registered = false;

/**
 * Registers the `native` backend (idempotent): a MathBackendCPU with every cpu kernel plus the
 * native convolutions. Gradients are per kernel name, so autodiff works unchanged.
 */
export function registerNativeBackend(blas: Blas): void {
  if (registered) return;
  registered = true;
  // Lowest priority: never picked implicitly, only by name.
  tf.registerBackend(NATIVE_BACKEND, () => {
    const backend = new MathBackendCPU();
    // Its first-use banner recommends tfjs-node, which is not what this backend is.
    (backend as unknown as { firstUse: boolean }).firstUse = false;
    return backend;
  }, -1);
  const native: Record<string, tf.KernelFunc> = {
    Conv2D: conv2dKernel(blas),
    FusedConv2D: fusedConv2dKernel(blas),
    Conv2DBackpropInput: backpropInputKernel(blas),
    Conv2DBackpropFilter: backpropFilterKernel(blas),
  };
  for (const k of tf.getKernelsForBackend("cpu")) {
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND, kernelFunc: native[k.kernelName] ?? k.kernelFunc });
  }
}
