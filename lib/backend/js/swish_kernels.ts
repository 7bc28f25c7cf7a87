/**
 * The swish kernels (the ops: lib/ops/swish.ts, lib/ops/packed_bf16.ts) on a FusedMath: swish
 * alone, and swish with the per-sample channel means of its output, each one pass; each also with
 * its output stored as packed bf16 pairs (int32 [B,H,W,C/2]).
 */
import * as tf from "@tensorflow/tfjs-core";
import { SWISH, SWISH_MEANS } from "../../ops/swish.ts";
import { SWISH_BF16, SWISH_MEANS_BF16 } from "../../ops/packed_bf16.ts";
import { lastDim, pixels } from "../../ops/shapes.ts";
import type { KernelHost } from "./kernel_host.ts";
import type { FusedMath } from "./fused_math.ts";

type Info = tf.TensorInfo;

/** [B, pixels per sample, C] of a [B, ..., C] tensor */
function samplePixelsChannels(shape: number[]): [number, number, number] {
  return [shape[0], pixels(shape.slice(1)), lastDim({ shape })];
}

/** [..., C/2]: the int32 tensor that holds C bf16 values per pixel */
function packedShape(shape: number[], kernel: string): number[] {
  const c = shape[shape.length - 1];
  if (shape.length === 0 || c % 2 !== 0) throw new Error(`${kernel}: an even channel count is needed, got [${shape}]`);
  return [...shape.slice(0, -1), c / 2];
}

export function swishKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  const bf16View = (backend: unknown, t: Info) => {
    const v = host.values(backend, t);
    return new Uint16Array(v.buffer, v.byteOffset, v.length * 2);
  };
  /** swish + channel means; `packed`: the swish output as bf16 pairs */
  const swishMeansKernel = (name: string, packed: boolean): tf.KernelFunc => ({ inputs, backend }) => {
    const { x } = inputs as { x: Info };
    if (x.shape.length < 3) throw new Error(`${name}: [batch, ..., channels] expected, got [${x.shape}]`);
    const [B, P, C] = samplePixelsChannels(x.shape);
    if (P === 0) throw new Error(`${name}: no pixels in [${x.shape}]`);
    const y = packed ? host.output(backend, packedShape(x.shape, name), "int32") : host.output(backend, x.shape, "float32");
    const means = host.output(backend, [B, C], "float32");
    if (B * C > 0) {
      if (packed) math.swishMeansBf16(B, P, C, f32(backend, x), bf16View(backend, y), f32(backend, means));
      else math.swishMeans(B, P, C, f32(backend, x), f32(backend, y), f32(backend, means));
    }
    return [y, means];
  };
  return {
    [SWISH]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      const y = host.output(backend, x.shape, "float32");
      if (tf.util.sizeFromShape(x.shape) > 0) math.swish(f32(backend, x), f32(backend, y));
      return y;
    },
    [SWISH_MEANS]: swishMeansKernel(SWISH_MEANS, false),
    [SWISH_BF16]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      const y = host.output(backend, packedShape(x.shape, SWISH_BF16), "int32");
      if (tf.util.sizeFromShape(x.shape) > 0) math.swishBf16(f32(backend, x), bf16View(backend, y));
      return y;
    },
    [SWISH_MEANS_BF16]: swishMeansKernel(SWISH_MEANS_BF16, true),
  };
}
