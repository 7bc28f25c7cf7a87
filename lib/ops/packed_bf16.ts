/**
 * Maps stored as bfloat16, for bf16 convolutions that would otherwise convert their float32
 * input first (inference only: no gradients).
 *
 * With the convolutions in bf16 (config `precision: "bf16"`), oneDNN rounds each convolution's
 * input to bf16 in a separate pass before the primitive runs (a read of 4 and a write of 2 bytes
 * per value). In EfficientNet-B5 the inputs of the depthwise and projection convolutions are
 * swish outputs, the largest maps of the network: about 15% of a bf16 forward at 768 px went to
 * these conversions. Here the swish kernel writes bf16 directly (2 bytes instead of 4 per value, and
 * no conversion pass), and the convolution reads it as it is.
 *
 * Rounding: to nearest even, as the conversion it replaces, so a network gives the same result
 * either way (tests/features/efficientnet_packed_bf16_test.ts).
 *
 * Storage: a [B, H, W, C] map, C even, as an int32 tensor [B, H, W, C/2] whose 32-bit words
 * hold two bf16 values (channel 2k in the low half on little-endian machines, i.e. the bf16
 * values in channel order in memory). int32, not float32, so that no float kernel takes it for
 * a map of numbers.
 *
 * Kernels (lib/backend/js/swish_kernels.ts, lib/backend/native/kernels.ts):
 *   AstSwishBf16 ({x [B,H,W,C]}) -> packed swish(x);
 *   AstSwishMeansBf16 ({x}) -> [packed swish(x), means [B,C] of the float32 swish values];
 *   AstConv2DBf16Input ({x packed, filter, bias?}, {channels, strides, pad, depthwise}) -> float32
 *     conv (+ bias), filter HWIO or, depthwise, [k, k, C, 1].
 * The backend registers the convolution kernel only while its convolutions run in bf16
 * (lib/backend/precision.ts), so `packedBf16Available` is true only where the convolutions round
 * their inputs to bf16 anyway. (A geometry oneDNN has no bf16 kernel for runs fp32 on the bf16
 * values, widened exactly.)
 */
import * as tf from "@tensorflow/tfjs-core";
import { useFused } from "./fused_switch.ts";

export const SWISH_BF16 = "AstSwishBf16";
export const SWISH_MEANS_BF16 = "AstSwishMeansBf16";
export const CONV2D_BF16_INPUT = "AstConv2DBf16Input";

/** A [B,H,W,C] map held as bf16 pairs (see the header). Dispose `packed` when done. */
export interface PackedBf16Map {
  /** int32 [B, H, W, C/2] */
  readonly packed: tf.Tensor4D;
  /** the map's shape [B, H, W, C] */
  readonly shape: [number, number, number, number];
}

export interface Conv2dBf16InputAttrs {
  /** the map's channel count C (the packed tensor has C/2) */
  channels: number;
  strides: number;
  /** "valid", "same" or explicit NHWC pads [[0,0],[top,bottom],[left,right],[0,0]] */
  pad: "valid" | "same" | [[number, number], [number, number], [number, number], [number, number]];
  depthwise: boolean;
}

/** True when maps of `channels` channels can be packed and fed to the convolutions as bf16 here. */
export function packedBf16Available(channels: number): boolean {
  return channels > 0 && channels % 2 === 0 && useFused(SWISH_BF16) && useFused(SWISH_MEANS_BF16) && useFused(CONV2D_BF16_INPUT);
}

function checkMap(x: tf.Tensor4D, op: string): [number, number, number, number] {
  if (x.dtype !== "float32") throw new Error(`${op}: float32 input expected, got ${x.dtype}`);
  const [b, h, w, c] = x.shape;
  if (c % 2 !== 0) throw new Error(`${op}: an even channel count is needed to pack bf16 pairs, got [${x.shape}]`);
  return [b, h, w, c];
}

/** swish(x) = x * sigmoid(x) as a packed bf16 map. Needs packedBf16Available(C). */
export function swishPackedBf16(x: tf.Tensor4D): PackedBf16Map {
  const shape = checkMap(x, SWISH_BF16);
  return { packed: tf.engine().runKernel(SWISH_BF16, { x }) as tf.Tensor4D, shape };
}

/** swish(x) as a packed bf16 map, and the per-sample channel means [B,C] of the float32 swish values. */
export function swishMeansPackedBf16(x: tf.Tensor4D): { y: PackedBf16Map; means: tf.Tensor2D } {
  const shape = checkMap(x, SWISH_MEANS_BF16);
  const [packed, means] = tf.engine().runKernel(SWISH_MEANS_BF16, { x }) as tf.Tensor[];
  return { y: { packed: packed as tf.Tensor4D, shape }, means: means as tf.Tensor2D };
}

/** Convolution (+ bias) of a packed bf16 map: float32 output, as tf.fused.conv2d / depthwiseConv2d would give in bf16. */
export function conv2dPackedBf16Input(
  x: PackedBf16Map,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  opts: Omit<Conv2dBf16InputAttrs, "channels">,
): tf.Tensor4D {
  const attrs: Conv2dBf16InputAttrs = { ...opts, channels: x.shape[3] };
  const inputs: tf.NamedTensorMap = bias ? { x: x.packed, filter, bias } : { x: x.packed, filter };
  return tf.engine().runKernel(CONV2D_BF16_INPUT, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The map's images one by one (split along the batch; the caller disposes their `packed`). */
export function unstackPackedBf16(x: PackedBf16Map): PackedBf16Map[] {
  const [b, h, w, c] = x.shape;
  if (b === 1) return [{ packed: tf.clone(x.packed), shape: x.shape }];
  return (tf.split(x.packed, b, 0) as tf.Tensor4D[]).map((packed) => ({ packed, shape: [1, h, w, c] }));
}
