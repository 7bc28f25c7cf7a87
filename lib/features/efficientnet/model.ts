/**
 * EfficientNet-B5 feature extractor (inference only), numerically following the reference
 * package (lukemelas EfficientNet-PyTorch) in eval mode:
 *   stem: conv 3x3 s2 + BN + swish
 *   MBConv: [expand 1x1 + BN + swish] -> depthwise kxk + BN + swish -> squeeze-excitation
 *           -> project 1x1 + BN -> identity skip when stride 1 and in == out (no drop-connect)
 * Every conv uses the static pads computed for a 456-pixel image (see architecture.ts).
 *
 * Eval-mode BatchNorm is an affine map per channel, so it is folded into the preceding conv
 * when the weights are loaded (kernel * scale, bias = beta - mean * scale; in float64).
 * Tensors are NHWC; the weights arrive in the reference's names and PyTorch layout (OIHW).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedArray } from "../../io/safetensors.ts";
import { B5_BLOCKS, B5_STEM_CHANNELS, B5_STEM_PADS, BN_EPS, type MBConvSpec, type Pads } from "./architecture.ts";
import { swish, swishWithMeans } from "../../ops/swish.ts";
import {
  conv2dPackedBf16Input, packedBf16Available, type PackedBf16Map, swishMeansPackedBf16, swishPackedBf16, unstackPackedBf16,
} from "../../ops/packed_bf16.ts";

/** A conv with its BatchNorm folded in. */
interface ConvParams {
  /** HWIO for convs, [k,k,C,1] for depthwise */
  kernel: tf.Tensor;
  bias: tf.Tensor1D;
}

/**
 * A squeeze-excitation dense layer (1x1 conv with bias on a [B,C] vector) as plain arrays: the
 * gate is a few hundred thousand multiply-adds per block, computed in JS (seGate), where tfjs'
 * matmul + sigmoid kernels cost ~1 ms per block in fixed per-call overhead.
 */
interface DenseValues {
  /** [inC, outC] */
  kernel: Float32Array;
  bias: Float32Array;
  inC: number;
  outC: number;
}

interface BlockParams {
  spec: MBConvSpec;
  expand?: ConvParams;
  depthwise: ConvParams;
  seReduce: DenseValues;
  seExpand: DenseValues;
  project: ConvParams;
}

export class EfficientNetWeightsError extends Error {}

/** Reads reference-named tensors, checking presence and shape; errors name the file and tensor. */
class WeightReader {
  constructor(private tensors: Map<string, NamedArray>, private source: string) {}

  get(name: string, shape: number[]): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new EfficientNetWeightsError(`${this.source}: missing tensor '${name}' (EfficientNet-B5, reference names)`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new EfficientNetWeightsError(`${this.source}: tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new EfficientNetWeightsError(`${this.source}: tensor '${name}' is ${t.dtype}, expected a float`);
    return t.data;
  }

  /** Eval-mode BN as (scale, shift) in float64. */
  batchNorm(prefix: string, channels: number): { scale: Float64Array; shift: Float64Array } {
    const gamma = this.get(`${prefix}.weight`, [channels]), beta = this.get(`${prefix}.bias`, [channels]);
    const mean = this.get(`${prefix}.running_mean`, [channels]), variance = this.get(`${prefix}.running_var`, [channels]);
    const scale = new Float64Array(channels), shift = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      scale[c] = gamma[c] / Math.sqrt(variance[c] + BN_EPS);
      shift[c] = beta[c] - mean[c] * scale[c];
    }
    return { scale, shift };
  }

  /** Conv OIHW (no bias) + BN -> HWIO kernel and bias. */
  convBn(convName: string, bnName: string, outC: number, inC: number, k: number): ConvParams {
    const w = this.get(`${convName}.weight`, [outC, inC, k, k]);
    const { scale, shift } = this.batchNorm(bnName, outC);
    const hwio = new Float32Array(w.length);
    for (let o = 0; o < outC; o++) {
      for (let i = 0; i < inC; i++) {
        for (let h = 0; h < k; h++) {
          for (let x = 0; x < k; x++) hwio[((h * k + x) * inC + i) * outC + o] = w[((o * inC + i) * k + h) * k + x] * scale[o];
        }
      }
    }
    const kernel = k === 1 ? tf.tensor4d(hwio, [1, 1, inC, outC]) : tf.tensor4d(hwio, [k, k, inC, outC]);
    return { kernel, bias: tf.tensor1d(Float32Array.from(shift)) };
  }

  /** Depthwise OIHW [C,1,k,k] + BN -> tfjs depthwise [k,k,C,1] and bias. */
  depthwiseBn(convName: string, bnName: string, channels: number, k: number): ConvParams {
    const w = this.get(`${convName}.weight`, [channels, 1, k, k]);
    const { scale, shift } = this.batchNorm(bnName, channels);
    const out = new Float32Array(w.length);
    for (let c = 0; c < channels; c++) {
      for (let h = 0; h < k; h++) for (let x = 0; x < k; x++) out[(h * k + x) * channels + c] = w[(c * k + h) * k + x] * scale[c];
    }
    return { kernel: tf.tensor4d(out, [k, k, channels, 1]), bias: tf.tensor1d(Float32Array.from(shift)) };
  }

  /** 1x1 conv with bias (squeeze-excitation) as an [I,O] matrix. */
  dense(convName: string, outC: number, inC: number): DenseValues {
    const w = this.get(`${convName}.weight`, [outC, inC, 1, 1]);
    const b = this.get(`${convName}.bias`, [outC]);
    const io = new Float32Array(w.length);
    for (let o = 0; o < outC; o++) for (let i = 0; i < inC; i++) io[i * outC + o] = w[o * inC + i];
    return { kernel: io, bias: b.slice(), inC, outC };
  }
}

function explicit(p: Pads): tf.backend_util.ExplicitPadding {
  return [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
}

/** x * sigmoid(x); disposes x (keeps the peak memory of the big expanded maps down). */
function swishConsuming(x: tf.Tensor4D): tf.Tensor4D {
  const y = swish(x);
  x.dispose();
  return y;
}

function conv1x1(x: tf.Tensor4D, p: ConvParams): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: p.kernel as tf.Tensor4D, strides: 1, pad: "valid", bias: p.bias });
}

/**
 * conv1x1(h * gate, p) for the gate [B,C] of the squeeze-excitation, computed as
 * conv(h, W * gate) per image: the gate scales the projection's input channels ([C, out]
 * values) instead of every pixel of h. Per image, so that an image gives the same features
 * alone and in a batch.
 */
function gatedProjection(h: tf.Tensor4D | PackedBf16Map, gate: tf.Tensor2D, p: ConvParams): tf.Tensor4D {
  const packed = "packed" in h;
  const [batch, , , c] = h.shape;
  const project = (hi: tf.Tensor4D | PackedBf16Map, gi: tf.Tensor): tf.Tensor4D => {
    const w = tf.mul(p.kernel, tf.reshape(gi, [1, 1, c, 1])) as tf.Tensor4D;
    const out = "packed" in hi
      ? conv2dPackedBf16Input(hi, w, p.bias, { strides: 1, pad: "valid", depthwise: false })
      : tf.fused.conv2d({ x: hi, filter: w, strides: 1, pad: "valid", bias: p.bias });
    w.dispose();
    return out;
  };
  if (batch === 1) return project(h, gate);
  return tf.tidy(() => {
    const hs = packed ? unstackPackedBf16(h) : tf.split(h, batch, 0) as tf.Tensor4D[];
    const gs = tf.split(gate, batch, 0);
    return tf.concat(hs.map((hi, i) => project(hi, gs[i])), 0) as tf.Tensor4D;
  });
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * The squeeze-excitation gate per image: sigmoid(expand(swish(reduce(means)))), [batch, C] from
 * the pooled map's means [batch, C], in float64 (stored float32).
 */
export function seGate(means: Float32Array, batch: number, reduce: DenseValues, expand: DenseValues): Float32Array {
  const c = reduce.inC, s = reduce.outC;
  const gate = new Float32Array(batch * c);
  const hidden = new Float64Array(s), out = new Float64Array(c);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < s; o++) hidden[o] = reduce.bias[o];
    for (let i = 0; i < c; i++) {
      const m = means[b * c + i], row = i * s;
      for (let o = 0; o < s; o++) hidden[o] += m * reduce.kernel[row + o];
    }
    for (let o = 0; o < s; o++) hidden[o] *= sigmoid(hidden[o]); // swish
    for (let i = 0; i < c; i++) out[i] = expand.bias[i];
    for (let o = 0; o < s; o++) {
      const v = hidden[o], row = o * c;
      for (let i = 0; i < c; i++) out[i] += v * expand.kernel[row + i];
    }
    for (let i = 0; i < c; i++) gate[b * c + i] = sigmoid(out[i]);
  }
  return gate;
}

function mbconv(x: tf.Tensor4D, p: BlockParams): tf.Tensor4D {
  const { spec } = p;
  // with the convolutions in bf16, the swish outputs (the depthwise and projection inputs) are
  // written as bf16 directly (lib/ops/packed_bf16.ts): the same values, one pass less each
  const packed = packedBf16Available(spec.midChannels);
  let dw: tf.Tensor4D;
  if (p.expand && packed) {
    const expanded = conv1x1(x, p.expand);
    const h = swishPackedBf16(expanded);
    expanded.dispose();
    dw = conv2dPackedBf16Input(h, p.depthwise.kernel as tf.Tensor4D, p.depthwise.bias, {
      strides: spec.stride,
      pad: explicit(spec.depthwisePads) as [[number, number], [number, number], [number, number], [number, number]],
      depthwise: true,
    });
    h.packed.dispose();
  } else {
    const h = p.expand ? swishConsuming(conv1x1(x, p.expand)) : x;
    // fused.depthwiseConv2d's typings omit explicit pads, but the op and the wasm/cpu kernels take
    // them (computeConv2DInfo); the conformance test checks the result.
    dw = tf.fused.depthwiseConv2d({
      x: h,
      filter: p.depthwise.kernel as tf.Tensor4D,
      strides: spec.stride,
      pad: explicit(spec.depthwisePads) as unknown as "valid",
      bias: p.depthwise.bias,
    });
    if (h !== x) h.dispose();
  }
  // swish and the squeeze-excitation's pooled input in one pass
  const act = packed ? swishMeansPackedBf16(dw) : swishWithMeans(dw);
  dw.dispose();

  // squeeze-excitation: per-channel gate from the pooled map (bottleneck width = in/4)
  const [batch, , , channels] = act.y.shape;
  const gate = tf.tensor2d(seGate(act.means.dataSync() as Float32Array, batch, p.seReduce, p.seExpand), [batch, channels]);
  const projected = gatedProjection(act.y, gate, p.project);
  ("packed" in act.y ? act.y.packed : act.y).dispose();
  return spec.residual ? tf.add(projected, x) as tf.Tensor4D : projected;
}

export interface EfficientNetB5Options {
  /** build (and require weights for) blocks 0..upToBlock only; default 35 (the AST features) */
  upToBlock?: number;
  /** file name for error messages */
  source?: string;
}

export class EfficientNetB5 {
  private constructor(
    private readonly stem: ConvParams,
    private readonly blocks: BlockParams[],
  ) {}

  /** Last block this instance can run to. */
  get upToBlock(): number {
    return this.blocks.length - 1;
  }

  /** Builds the network from reference-named float tensors (PyTorch layout). */
  static fromReferenceWeights(tensors: Map<string, NamedArray>, opts: EfficientNetB5Options = {}): EfficientNetB5 {
    const upToBlock = opts.upToBlock ?? 35;
    if (!Number.isInteger(upToBlock) || upToBlock < 0 || upToBlock >= B5_BLOCKS.length) {
      throw new RangeError(`upToBlock must be an integer in 0..${B5_BLOCKS.length - 1}, got ${upToBlock}`);
    }
    const r = new WeightReader(tensors, opts.source ?? "<weights>");
    const made: ConvParams[] = [];
    const track = (p: ConvParams) => (made.push(p), p);
    try {
      const stem = track(r.convBn("_conv_stem", "_bn0", B5_STEM_CHANNELS, 3, 3));
      const blocks = B5_BLOCKS.slice(0, upToBlock + 1).map((spec): BlockParams => {
        const b = `_blocks.${spec.index}`;
        return {
          spec,
          expand: spec.expandRatio !== 1 ? track(r.convBn(`${b}._expand_conv`, `${b}._bn0`, spec.midChannels, spec.inChannels, 1)) : undefined,
          depthwise: track(r.depthwiseBn(`${b}._depthwise_conv`, `${b}._bn1`, spec.midChannels, spec.kernel)),
          seReduce: r.dense(`${b}._se_reduce`, spec.seChannels, spec.midChannels),
          seExpand: r.dense(`${b}._se_expand`, spec.midChannels, spec.seChannels),
          project: track(r.convBn(`${b}._project_conv`, `${b}._bn2`, spec.outChannels, spec.midChannels, 1)),
        };
      });
      return new EfficientNetB5(stem, blocks);
    } catch (e) {
      for (const p of made) tf.dispose([p.kernel, p.bias]);
      throw e;
    }
  }

  /**
   * Runs the network on normalised NHWC images [N,H,W,3] up to the largest requested block and
   * returns those blocks' outputs (NHWC). The caller owns (disposes) the returned tensors.
   */
  forward(input: tf.Tensor4D, outputBlocks: readonly number[] = [this.upToBlock]): Map<number, tf.Tensor4D> {
    if (outputBlocks.length === 0) throw new RangeError("no output block requested");
    const last = Math.max(...outputBlocks);
    if (outputBlocks.some((b) => !Number.isInteger(b) || b < 0) || last > this.upToBlock) {
      throw new RangeError(`output blocks must be integers in 0..${this.upToBlock}, got [${outputBlocks}]`);
    }
    if (input.shape[3] !== 3) throw new RangeError(`expected NHWC input with 3 channels, got shape [${input.shape}]`);
    const wanted = new Set(outputBlocks);
    const outputs = new Map<number, tf.Tensor4D>();
    let x = tf.tidy(() =>
      swishConsuming(tf.fused.conv2d({ x: input, filter: this.stem.kernel as tf.Tensor4D, strides: 2, pad: explicit(B5_STEM_PADS), bias: this.stem.bias }))
    );
    for (let b = 0; b <= last; b++) {
      const y = tf.tidy(() => mbconv(x, this.blocks[b]));
      if (!outputs.has(b - 1)) x.dispose();
      if (wanted.has(b)) outputs.set(b, y);
      x = y;
    }
    return outputs;
  }

  dispose(): void {
    for (const p of [this.stem, ...this.blocks.flatMap((b) => [b.expand, b.depthwise, b.project])]) {
      if (p) tf.dispose([p.kernel, p.bias]);
    }
  }
}
