/**
 * tfjs' gradient definitions. tfjs-core's Node entry (what `@tensorflow/tfjs-core` resolves to in
 * Deno) registers no gradients at all, so `tf.grad` fails on every backend until this runs. The
 * ops' own gradients are op_gradients.ts.
 */
import * as tf from "@tensorflow/tfjs-core";

let registered = false;

/**
 * Registers tfjs-core's gradient definitions plus a few that
 * tfjs lacks for ops this project differentiates through. Idempotent; returns the names of
 * the extra gradients added here.
 */
export async function registerTrainingGradients(): Promise<string[]> {
  if (registered) return [];
  // tfjs-core's bundle has no gradients and its ESM `register_all_gradients` does not load in
  // Deno (extensionless imports); the union package's Node bundle registers them all on the
  // same tfjs-core instance (one npm copy of tfjs-core@4.22.0).
  if (tf.getGradient("Sum") == null) await import("@tensorflow/tfjs");
  if (tf.getGradient("Sum") == null) throw new Error("tfjs gradients failed to register");
  registered = true;
  return registerExtraGradients();
}

/** Comparison / logical ops: not differentiable, but they sit on the tape under `tf.where`. */
const ZERO_GRADIENT_KERNELS = ["Greater", "Less", "LessEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr"];

function registerExtraGradients(): string[] {
  const added: string[] = [];
  for (const kernelName of ZERO_GRADIENT_KERNELS) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["a", "b"],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as tf.Tensor[];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
    added.push(kernelName);
  }
  if (tf.getGradient("LogicalNot") == null) {
    tf.registerGradient({
      kernelName: "LogicalNot",
      inputsToSave: ["x"],
      gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike((saved as tf.Tensor[])[0]) }),
    });
    added.push("LogicalNot");
  }
  // tfjs's own Maximum/Minimum gradients return dy's broadcast shape for a broadcast input
  // ("gradient of input 'b' has shape ..."): replaced by ones that sum over broadcast axes.
  // dx = dy * (x > 0 ? 1 : alpha): Step computes exactly that factor in one kernel, where the
  // shipped gradient uses Greater + Select (both scalar and slow on wasm).
  tf.registerGradient({
    kernelName: "LeakyRelu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { alpha } = attrs as unknown as tf.LeakyReluAttrs;
      return { x: () => tf.mul(dy as tf.Tensor, tf.step(x, alpha)) };
    },
  });
  added.push("LeakyRelu (replaced)");
  tf.registerGradient(broadcastSelectGradient("Maximum", tf.greaterEqual, tf.less));
  tf.registerGradient(broadcastSelectGradient("Minimum", tf.lessEqual, tf.greater));
  added.push("Maximum (broadcast-aware)", "Minimum (broadcast-aware)");
  if (tf.getGradient("DepthToSpace") == null) {
    // depthToSpace is a pure permutation, so its gradient is the inverse permutation
    // (spaceToDepth) of dy, written with reshape/transpose.
    tf.registerGradient({
      kernelName: "DepthToSpace",
      gradFunc: (dy, _saved, attrs) => {
        const { blockSize, dataFormat } = attrs as unknown as { blockSize: number; dataFormat: string };
        return { x: () => spaceToDepth(dy as tf.Tensor4D, blockSize, dataFormat) };
      },
    });
    added.push("DepthToSpace");
  }
  return added;
}

type Compare = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** dy flows to a where aWins(a, b), else to b; each summed back to its input's shape. */
function broadcastSelectGradient(kernelName: string, aWins: Compare, bWins: Compare): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as tf.Tensor[];
      const g = dy as tf.Tensor;
      return {
        a: () => sumToShape(tf.mul(g, tf.cast(aWins(a, b), "float32")), a.shape),
        b: () => sumToShape(tf.mul(g, tf.cast(bWins(a, b), "float32")), b.shape),
      };
    },
  };
}

/** Sums a broadcast result back down to `shape`. */
export function sumToShape(x: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, x.shape);
  return axes.length > 0 ? tf.reshape(tf.sum(x, axes), shape) : x;
}

/** Inverse of `tf.depthToSpace` (DCR order, as TensorFlow). */
export function spaceToDepth(x: tf.Tensor4D, blockSize: number, dataFormat = "NHWC"): tf.Tensor4D {
  return tf.tidy(() => {
    const nhwc = dataFormat === "NHWC" ? x : tf.transpose(x, [0, 2, 3, 1]);
    const [b, h, w, c] = nhwc.shape;
    const s = blockSize;
    const blocks = tf.reshape(nhwc, [b, h / s, s, w / s, s, c]);
    const out = tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [b, h / s, w / s, s * s * c]) as tf.Tensor4D;
    return dataFormat === "NHWC" ? out : tf.transpose(out, [0, 3, 1, 2]);
  });
}
