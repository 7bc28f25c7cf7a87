/**
 * A flow coupling's output from its halves as one op:
 *
 *   joinClip(a, count, b, lo, hi) = clip(concat(a[.., :count], b), lo, hi)
 *     (a may carry the condition after its first `count` channels) in one pass instead of
 *     concat and clip.
 *
 * Kernels (lib/backend/js/channel_kernels.ts):
 *   AstJoinClip ({a, b}, {count, lo, hi}) -> y
 *   AstClipGradChannels ({src, dy}, {dyOffset, count, lo, hi}) -> dsrc (src's shape)
 */
import * as tf from "@tensorflow/tfjs-core";
import { useFused } from "./fused_switch.ts";
import { lastDim } from "./shapes.ts";

export const JOIN_CLIP = "AstJoinClip";
export const CLIP_GRAD_CHANNELS = "AstClipGradChannels";

/** AstJoinClip's gradient: the clip's gradient of each input's channel range, one kernel each. */
export function registerJoinClipGradient(): void {
  tf.registerGradient({
    kernelName: JOIN_CLIP,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { count, lo, hi } = attrs as unknown as { count: number; lo: number; hi: number };
      const grad = (src: tf.Tensor, dyOffset: number, n: number) =>
        tf.engine().runKernel(CLIP_GRAD_CHANNELS, { src, dy: dy as tf.Tensor }, { dyOffset, count: n, lo, hi } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return { a: () => grad(a, 0, count), b: () => grad(b, count, lastDim(b)) };
    },
  });
}

/** clip(concat(a[.., :count], b), lo, hi) (module comment); a fused kernel where the backend has one. */
export function joinClip(a: tf.Tensor4D, count: number, b: tf.Tensor4D, lo: number, hi: number): tf.Tensor4D {
  if (useFused(JOIN_CLIP) && a.dtype === "float32" && b.dtype === "float32") {
    return tf.engine().runKernel(JOIN_CLIP, { a, b }, { count, lo, hi } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return joinClipComposed(a, count, b, lo, hi);
}

/** The same from tfjs ops (backends without the kernel; the reference in tests). */
export function joinClipComposed(a: tf.Tensor4D, count: number, b: tf.Tensor4D, lo: number, hi: number): tf.Tensor4D {
  const first = count === a.shape[3] ? a : tf.slice(a, [0, 0, 0, 0], [-1, -1, -1, count]);
  return tf.clipByValue(tf.concat([first, b], 3), lo, hi) as tf.Tensor4D;
}
