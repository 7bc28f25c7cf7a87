/**
 * What a native convolution library offers the wasm backend's conv kernels (kernels.ts): oneDNN
 * (onednn/conv.ts) and OpenBLAS im2col + SGEMM (library.ts) implement it. Buffers are
 * tfjs-layout Float32Arrays (NHWC, HWIO); outputs are overwritten entirely.
 */
import type { ConvGeometry } from "./im2col_conv.ts";

export interface ConvolutionLibrary {
  /** e.g. "oneDNN 2.6.3", "OpenBLAS 0.3.21 SkylakeX" */
  readonly name: string;
  threads(): number;
  forward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void;
  /** y = conv(x, w) + bias in one pass, where the library can (saves a full pass over y) */
  forwardBias?(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void;
  backwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** depthwise forward (filter [kh, kw, C, multiplier]; g computed with depthwise = true), bias optional */
  depthwiseForward?(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void;
  backwardWeights(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  /**
   * forward (depthwise: depthwiseForward) of an input given as bf16 bits (NHWC; lib/ops/packed_bf16.ts),
   * bias optional; oneDNN (onednn/conv.ts forwardBf16Input)
   */
  forwardBf16Input?(g: ConvGeometry, x16: Uint16Array, w: Float32Array, y: Float32Array, bias?: Float32Array, depthwise?: boolean): void;
}
