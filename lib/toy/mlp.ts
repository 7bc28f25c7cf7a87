/**
 * A small fully connected network on tfjs for the 1D toy: parameters as ONE flat vector plus the
 * shapes of its layers, so a fit is one Adam update per step (tfjs' per-op overhead, not the
 * arithmetic, is what costs time at this size).
 *
 * Layout of the flat vector: for each layer l, all of w_l (row-major [in, out]), then b_l [out].
 * Every hidden layer is followed by the activation; the output layer is linear.
 */
import * as tf from "@tensorflow/tfjs-core";
import { mulberry32 } from "../util/random.ts";

export type Activation = "tanh" | "relu";

export interface MlpSpec {
  /** Layer widths from input to output, e.g. [1, 32, 1] = one hidden layer of 32 units. */
  dims: number[];
  activation: Activation;
}

/** An MLP's parameters: `theta` is a tf.Variable when it is trained, a plain tensor when frozen. */
export interface Mlp {
  spec: MlpSpec;
  theta: tf.Tensor1D;
}

/** Number of hidden layers (= layers - 1). */
export function hiddenLayers(spec: MlpSpec): number {
  return spec.dims.length - 2;
}

/** Parameter shapes in the flat vector's order: [w0, b0, w1, b1, ...], w_l [in, out], b_l [out]. */
export function parameterShapes(spec: MlpSpec): number[][] {
  const shapes: number[][] = [];
  for (let l = 0; l + 1 < spec.dims.length; l++) shapes.push([spec.dims[l], spec.dims[l + 1]], [spec.dims[l + 1]]);
  return shapes;
}

export function parameterCount(spec: MlpSpec): number {
  return parameterShapes(spec).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}

function checkSpec(spec: MlpSpec): void {
  if (spec.dims.length < 2 || !spec.dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`MLP dims must be >= 2 positive integers, got [${spec.dims}]`);
  }
}

/**
 * Initial parameters as PyTorch's default nn.Linear init draws them: w and b uniform in
 * +-1/sqrt(fan_in), from a mulberry32 stream (identical on every backend).
 */
export function initMlpValues(spec: MlpSpec, seed: number): Float32Array {
  checkSpec(spec);
  const rng = mulberry32(seed);
  const out = new Float32Array(parameterCount(spec));
  let k = 0;
  for (let l = 0; l + 1 < spec.dims.length; l++) {
    const bound = 1 / Math.sqrt(spec.dims[l]);
    const n = spec.dims[l] * spec.dims[l + 1] + spec.dims[l + 1];
    for (let i = 0; i < n; i++) out[k++] = (2 * rng() - 1) * bound;
  }
  return out;
}

/** A seeded MLP; `trainable` makes theta a tf.Variable (the students), else a constant (the teacher). */
export function createMlp(spec: MlpSpec, seed: number, trainable: boolean): Mlp {
  const values = initMlpValues(spec, seed);
  const theta = trainable ? tf.tidy(() => tf.variable(tf.tensor1d(values))) : tf.tensor1d(values);
  return { spec, theta };
}

/**
 * x [n, 1] -> y [n, 1] for the MLP's parameters `theta` (passed separately so a gradient can be
 * taken with respect to it).
 */
export function mlpForward(spec: MlpSpec, theta: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  const act = spec.activation === "tanh" ? tf.tanh : tf.relu;
  const layers = spec.dims.length - 1;
  let h: tf.Tensor2D = x;
  let offset = 0;
  for (let l = 0; l < layers; l++) {
    const nIn = spec.dims[l], nOut = spec.dims[l + 1];
    const w = tf.reshape(tf.slice(theta, offset, nIn * nOut), [nIn, nOut]) as tf.Tensor2D;
    offset += nIn * nOut;
    const b = tf.slice(theta, offset, nOut);
    offset += nOut;
    h = tf.add(tf.matMul(h, w), b);
    if (l < layers - 1) h = act(h);
  }
  return h;
}
