/**
 * The swish kernels (the ops: lib/ops/swish.ts) on a FusedMath: swish alone, and swish with the
 * per-sample channel means of its output, each one pass.
 */
import * as tf from "@tensorflow/tfjs-core";
import { SWISH, SWISH_MEANS } from "../../ops/swish.ts";
import { lastDim, pixels } from "../../ops/shapes.ts";
import type { KernelHost } from "./kernel_host.ts";
import type { FusedMath } from "./fused_math.ts";

type Info = tf.TensorInfo;

/** [B, pixels per sample, C] of a [B, ..., C] tensor */
function samplePixelsChannels(shape: number[]): [number, number, number] {
  return [shape[0], pixels(shape.slice(1)), lastDim({ shape })];
}

export function swishKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [SWISH]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      const y = host.output(backend, x.shape, "float32");
      if (tf.util.sizeFromShape(x.shape) > 0) math.swish(f32(backend, x), f32(backend, y));
      return y;
    },
    [SWISH_MEANS]: ({ inputs, backend }) => {
      const { x } = inputs as { x: Info };
      if (x.shape.length < 3) throw new Error(`${SWISH_MEANS}: [batch, ..., channels] expected, got [${x.shape}]`);
      const [B, P, C] = samplePixelsChannels(x.shape);
      if (P === 0) throw new Error(`${SWISH_MEANS}: no pixels in [${x.shape}]`);
      const y = host.output(backend, x.shape, "float32");
      const means = host.output(backend, [B, C], "float32");
      if (B * C > 0) math.swishMeans(B, P, C, f32(backend, x), f32(backend, y), f32(backend, means));
      return [y, means];
    },
  };
}
