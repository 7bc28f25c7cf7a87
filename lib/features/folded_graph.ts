/**
 * Runs the part of a Keras conv graph that feeds one named layer, with tfjs-core ops only and
 * inference-time folding: BatchNorm folded into the preceding convolution's weights and bias,
 * a following ReLU/ReLU6 fused into the same kernel, and `ZeroPadding2D + valid` turned into
 * `same` padding when the two are equal at the actual input size. Keras' separate
 * BatchNorm/ReLU/clip kernels dominate the wasm run time otherwise (about 3x slower).
 * Supported layers: InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization,
 * ReLU, Activation (linear/relu/relu6), Add.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KerasNode } from "./tfjs_layers_model.ts";

type Weights = Map<string, { shape: number[]; data: Float32Array }>;
type Activation = "linear" | "relu" | "relu6";
type Pads = [[number, number], [number, number]];

interface Op {
  /** the name later nodes use for this op's output (the last fused Keras layer) */
  name: string;
  inputs: string[];
  run(xs: tf.Tensor4D[]): tf.Tensor4D;
}

export interface FoldedGraph {
  output: string;
  /** channels of the output */
  channels: number;
  /** input pixels per output cell along each axis */
  stride: number;
  /** the Keras layers the output depends on, in order */
  layers: string[];
  run(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export class GraphError extends Error {}

export function compileFoldedGraph(nodes: KerasNode[], weights: Weights, output: string): FoldedGraph {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (!byName.has(output)) throw new GraphError(`no layer named '${output}'`);
  const order = neededInOrder(nodes, byName, output);
  const consumers = new Map<string, number>();
  for (const n of order) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const single = (name: string) => name !== output && consumers.get(name) === 1;
  const onlyConsumer = (name: string) => order.find((n) => n.inputs.includes(name))!;

  // Fusion plan: which nodes are absorbed into a convolution.
  const absorbed = new Set<string>();
  const ops: Op[] = [];
  const owned: tf.Tensor[] = [];
  const channels = new Map<string, number>();
  const strides = new Map<string, number>();
  const keep = <T extends tf.Tensor>(t: T) => (owned.push(t), t);
  for (const n of order) {
    if (absorbed.has(n.name)) continue;
    const inStride = n.inputs.length ? strides.get(n.inputs[0])! : 1;
    const inCh = n.inputs.length ? channels.get(n.inputs[0])! : 0;
    let outName = n.name, outCh = inCh, outStride = inStride;
    switch (n.className) {
      case "InputLayer": {
        const shape = n.config.batch_input_shape as (number | null)[] | undefined;
        outCh = shape?.[3] ?? 3;
        ops.push({ name: n.name, inputs: [], run: (xs) => xs[0] });
        break;
      }
      case "Conv2D":
      case "DepthwiseConv2D": {
        // absorb a single-use ZeroPadding2D feeding the conv
        let input = n.inputs[0];
        let pads: Pads = [[0, 0], [0, 0]];
        const src = byName.get(input)!;
        if (src.className === "ZeroPadding2D" && single(src.name) && n.config.padding === "valid" && ops.at(-1)?.name === src.name) {
          ops.pop();
          pads = zeroPads(src);
          input = src.inputs[0];
        }
        const conv = convWeights(n, weights, channels.get(input)!);
        let last = n.name;
        let act: Activation = "linear";
        if (single(last) && onlyConsumer(last).className === "BatchNormalization") {
          const bn = onlyConsumer(last);
          foldBatchNorm(conv, bn, weights);
          absorbed.add(bn.name);
          last = bn.name;
          const a = single(last) ? activationOf(onlyConsumer(last)) : null;
          if (a) {
            act = a;
            absorbed.add(onlyConsumer(last).name);
            last = onlyConsumer(last).name;
          }
        }
        ops.push(convOp(n, conv, pads, act, input, last, keep));
        outName = last;
        outCh = conv.outChannels;
        outStride = inStride * conv.stride;
        break;
      }
      case "ZeroPadding2D": {
        const p = zeroPads(n);
        ops.push({ name: n.name, inputs: n.inputs, run: (xs) => tf.pad(xs[0], [[0, 0], p[0], p[1], [0, 0]]) });
        break;
      }
      case "BatchNormalization": {
        const { scale, shift } = bnAffine(n, weights, inCh);
        const s = keep(tf.tensor1d(Float32Array.from(scale))), b = keep(tf.tensor1d(Float32Array.from(shift)));
        ops.push({ name: n.name, inputs: n.inputs, run: (xs) => tf.add(tf.mul(xs[0], s), b) });
        break;
      }
      case "ReLU":
      case "Activation": {
        const a = activationOf(n);
        if (!a) throw new GraphError(`layer ${n.name}: unsupported activation ${JSON.stringify(n.config)}`);
        ops.push({ name: n.name, inputs: n.inputs, run: (xs) => applyActivation(xs[0], a) });
        break;
      }
      case "Add":
        ops.push({ name: n.name, inputs: n.inputs, run: (xs) => xs.reduce((a, b) => tf.add(a, b)) });
        break;
      default:
        throw new GraphError(`layer ${n.name}: layer type ${n.className} is not supported`);
    }
    channels.set(outName, outCh);
    strides.set(outName, outStride);
    if (outName !== n.name) {
      channels.set(n.name, outCh);
      strides.set(n.name, outStride);
    }
  }
  const last = ops.at(-1)!;
  if (last.name !== output) throw new GraphError(`internal: graph ends at ${last.name}, not ${output}`);

  return {
    output,
    channels: channels.get(output)!,
    stride: strides.get(output)!,
    layers: order.map((n) => n.name),
    run: (x) => execute(ops, x),
    dispose: () => tf.dispose(owned),
  };
}

/** The nodes `output` depends on, in a topological order (the file order when it is one). */
function neededInOrder(nodes: KerasNode[], byName: Map<string, KerasNode>, output: string): KerasNode[] {
  const need = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const name = stack.pop()!;
    if (need.has(name)) continue;
    const n = byName.get(name);
    if (!n) throw new GraphError(`layer '${name}' is referenced but not defined`);
    need.add(name);
    stack.push(...n.inputs);
  }
  const done = new Set<string>();
  const order: KerasNode[] = [];
  const visit = (n: KerasNode) => {
    if (done.has(n.name)) return;
    done.add(n.name);
    for (const i of n.inputs) visit(byName.get(i)!);
    order.push(n);
  };
  for (const n of nodes) if (need.has(n.name)) visit(n);
  const inputs = order.filter((n) => n.className === "InputLayer");
  if (inputs.length !== 1) throw new GraphError(`expected one input layer feeding ${output}, found ${inputs.length}`);
  return order;
}

function execute(ops: Op[], x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const remaining = new Map<string, number>();
    for (const op of ops) for (const i of op.inputs) remaining.set(i, (remaining.get(i) ?? 0) + 1);
    const values = new Map<string, tf.Tensor4D>();
    for (const op of ops) {
      const out = op.inputs.length ? op.run(op.inputs.map((i) => values.get(i)!)) : x;
      values.set(op.name, out);
      // free activations as soon as their last consumer has run
      for (const i of op.inputs) {
        const left = remaining.get(i)! - 1;
        remaining.set(i, left);
        if (left === 0 && values.get(i) !== x) values.get(i)!.dispose();
      }
    }
    return values.get(ops.at(-1)!.name)!;
  });
}

interface ConvWeights {
  depthwise: boolean;
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  bias: Float32Array;
  outChannels: number;
  stride: number;
}

function requireWeight(weights: Weights, layer: string, what: string): { shape: number[]; data: Float32Array } {
  const w = weights.get(`${layer}/${what}`);
  if (!w) throw new GraphError(`layer ${layer}: weight ${layer}/${what} missing from the weights`);
  return w;
}

function convWeights(n: KerasNode, weights: Weights, inCh: number): ConvWeights {
  const depthwise = n.className === "DepthwiseConv2D";
  const c = n.config as { strides?: number[]; dilation_rate?: number[]; use_bias?: boolean; activation?: string; data_format?: string };
  if ((c.dilation_rate ?? [1, 1]).some((d) => d !== 1)) throw new GraphError(`layer ${n.name}: dilated convolutions are not supported`);
  if (c.data_format && c.data_format !== "channels_last") throw new GraphError(`layer ${n.name}: only channels_last is supported`);
  if (c.activation && c.activation !== "linear") throw new GraphError(`layer ${n.name}: conv activation ${c.activation} is not supported`);
  const [sy, sx] = c.strides ?? [1, 1];
  if (sy !== sx) throw new GraphError(`layer ${n.name}: unequal strides are not supported`);
  const k = requireWeight(weights, n.name, depthwise ? "depthwise_kernel" : "kernel");
  const shape = k.shape as [number, number, number, number];
  if (shape[2] !== inCh) throw new GraphError(`layer ${n.name}: kernel expects ${shape[2]} input channels, gets ${inCh}`);
  const outChannels = depthwise ? shape[2] * shape[3] : shape[3];
  const bias = c.use_bias ? Float32Array.from(requireWeight(weights, n.name, "bias").data) : new Float32Array(outChannels);
  return { depthwise, kernel: Float32Array.from(k.data), kernelShape: shape, bias, outChannels, stride: sy };
}

function bnAffine(bn: KerasNode, weights: Weights, channels: number): { scale: Float64Array; shift: Float64Array } {
  const c = bn.config as { epsilon?: number; center?: boolean; scale?: boolean; axis?: number | number[] };
  const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis ?? -1;
  if (axis !== -1 && axis !== 3) throw new GraphError(`layer ${bn.name}: BatchNorm axis ${axis} is not supported`);
  const eps = c.epsilon ?? 1e-3;
  const gamma = c.scale === false ? null : requireWeight(weights, bn.name, "gamma").data;
  const beta = c.center === false ? null : requireWeight(weights, bn.name, "beta").data;
  const mean = requireWeight(weights, bn.name, "moving_mean").data;
  const variance = requireWeight(weights, bn.name, "moving_variance").data;
  if (mean.length !== channels) throw new GraphError(`layer ${bn.name}: ${mean.length} channels, input has ${channels}`);
  const scale = new Float64Array(channels), shift = new Float64Array(channels);
  for (let i = 0; i < channels; i++) {
    scale[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
    shift[i] = (beta ? beta[i] : 0) - mean[i] * scale[i];
  }
  return { scale, shift };
}

/** W' = W * s[out], b' = b * s + t (computed in float64, stored float32). */
function foldBatchNorm(conv: ConvWeights, bn: KerasNode, weights: Weights): void {
  const { scale, shift } = bnAffine(bn, weights, conv.outChannels);
  const oc = conv.outChannels;
  // HWIO and [kh, kw, in, multiplier] both put the output channel in the fastest index
  for (let i = 0; i < conv.kernel.length; i++) conv.kernel[i] *= scale[i % oc];
  for (let o = 0; o < oc; o++) conv.bias[o] = conv.bias[o] * scale[o] + shift[o];
}

function activationOf(n: KerasNode): Activation | null {
  if (n.className === "ReLU") {
    const c = n.config as { max_value?: number | null; negative_slope?: number; threshold?: number };
    if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return null;
    if (c.max_value == null) return "relu";
    return c.max_value === 6 ? "relu6" : null;
  }
  if (n.className === "Activation") {
    const a = (n.config as { activation?: string }).activation;
    return a === "relu" || a === "relu6" || a === "linear" ? a : null;
  }
  return null;
}

function applyActivation(x: tf.Tensor4D, a: Activation): tf.Tensor4D {
  return a === "relu" ? tf.relu(x) : a === "relu6" ? tf.relu6(x) : x;
}

function zeroPads(n: KerasNode): Pads {
  const p = (n.config as { padding?: number | number[] | number[][] }).padding ?? 1;
  if (typeof p === "number") return [[p, p], [p, p]];
  if (typeof p[0] === "number") return [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
  return p as Pads;
}

/** TensorFlow's "same" padding (before, after) along one axis. */
function samePads(size: number, k: number, s: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function convOp(
  n: KerasNode,
  w: ConvWeights,
  pads: Pads,
  act: Activation,
  input: string,
  name: string,
  keep: <T extends tf.Tensor>(t: T) => T,
): Op {
  const kernel = keep(tf.tensor4d(w.kernel, w.kernelShape));
  const bias = keep(tf.tensor1d(w.bias));
  const [kh, kw] = w.kernelShape;
  const s = w.stride;
  const same = (n.config as { padding?: string }).padding === "same";
  const explicit = pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] > 0;
  return {
    name,
    inputs: [input],
    run: ([x]) => {
      let pad: "same" | "valid" = same ? "same" : "valid";
      if (explicit) {
        // Keras writes the pad for its build-time input size; reuse "same" only when it agrees
        const [, h, wd] = x.shape;
        const sh = samePads(h, kh, s), sw = samePads(wd, kw, s);
        const agrees = sh[0] === pads[0][0] && sh[1] === pads[0][1] && sw[0] === pads[1][0] && sw[1] === pads[1][1];
        if (agrees) pad = "same";
        else x = tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]);
      }
      const args = { x, filter: kernel, strides: [s, s] as [number, number], pad, bias, activation: act };
      return w.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    },
  };
}
