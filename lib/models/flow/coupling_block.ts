/**
 * Conditional affine coupling block of the official AST flow (a GLOW-style block that updates
 * both halves). With e(s) = exp(alpha * 0.636 * atan(s / alpha)):
 *   y1 = e(s2) * x1 + t2, (s2, t2) = sub2([x2, c]);  y2 = e(s1) * x2 + t1, (s1, t1) = sub1([y1, c])
 * log|det J| per pixel = channel sums of both log-scales. The condition c is the positional
 * encoding, concatenated after the half-input.
 */
import * as tf from "@tensorflow/tfjs-core";
import { couplingHalf } from "../../ops/coupling_half.ts";
import { joinClip } from "../../ops/join_clip.ts";
import { permuteSplit } from "../../ops/permute_split.ts";
import { conv2dBias } from "../../ops/conv2d_bias.ts";
import type { ChannelPermutation } from "./channel_permutation.ts";
import { initConv2d, ParameterStore } from "../parameters.ts";

/** Subnet: conv k (in+cond -> hidden), ReLU, conv k (hidden -> 2*out), replicate padding, x gamma. */
export class CouplingSubnet {
  constructor(private store: ParameterStore, private prefix: string) {}

  static create(
    store: ParameterStore,
    prefix: string,
    inChannels: number,
    hidden: number,
    outChannels: number,
    kernel: number,
    rng: () => number,
  ): CouplingSubnet {
    const c1 = initConv2d(kernel, inChannels, hidden, rng);
    store.addTrainable(`${prefix}.conv1.weight`, c1.weight);
    store.addTrainable(`${prefix}.conv1.bias`, c1.bias);
    const c2 = initConv2d(kernel, hidden, outChannels, rng);
    store.addTrainable(`${prefix}.conv2.weight`, c2.weight);
    store.addTrainable(`${prefix}.conv2.bias`, c2.bias);
    // The "gamma trick": the block starts as the identity.
    store.addTrainable(`${prefix}.gamma`, tf.zeros([1]));
    return new CouplingSubnet(store, prefix);
  }

  /**
   * gamma * conv2(relu(conv1(x))), the first `scaled.count` output channels also times
   * `scaled.factor`. Both factors are applied to conv2's weight and bias: the same function and
   * gradients, without full-size multiplies (one forward and two backward each).
   */
  apply(x: tf.Tensor, scaled?: { count: number; factor: number }): tf.Tensor4D {
    const p = (n: string) => this.store.get(`${this.prefix}.${n}`);
    const h = conv2dBias(x as tf.Tensor4D, p("conv1.weight") as tf.Tensor4D, p("conv1.bias") as tf.Tensor1D, "replicate", "relu");
    const w = p("conv2.weight") as tf.Tensor4D, b = p("conv2.bias") as tf.Tensor1D;
    let scale = p("gamma");
    if (scaled) {
      const out = b.shape[0];
      const perChannel = Float32Array.from({ length: out }, (_, i) => (i < scaled.count ? scaled.factor : 1));
      scale = tf.mul(scale, tf.tensor1d(perChannel));
    }
    return conv2dBias(h, tf.mul(w, scale) as tf.Tensor4D, tf.mul(b, scale) as tf.Tensor1D, "replicate");
  }
}

/** The condition (positional encoding) goes after the half-input; none when disabled. */
function withCondition(x: tf.Tensor, cond: tf.Tensor4D | null): tf.Tensor {
  return cond ? tf.concat([x, cond], 3) : x;
}

export interface CouplingConfig {
  channels: number;
  condChannels: number;
  hidden: number;
  kernel: number;
  /** soft-clamp alpha */
  clamp: number;
}

export class ConditionalCouplingBlock {
  readonly split1: number;
  readonly split2: number;
  constructor(readonly cfg: CouplingConfig, readonly sub1: CouplingSubnet, readonly sub2: CouplingSubnet) {
    this.split1 = Math.floor(cfg.channels / 2);
    this.split2 = cfg.channels - this.split1;
  }

  static create(store: ParameterStore, prefix: string, cfg: CouplingConfig, rng: () => number): ConditionalCouplingBlock {
    const s1 = Math.floor(cfg.channels / 2), s2 = cfg.channels - s1;
    // Same creation order as the reference module (s1 before s2).
    const sub1 = CouplingSubnet.create(store, `${prefix}.s1`, s1 + cfg.condChannels, cfg.hidden, 2 * s2, cfg.kernel, rng);
    const sub2 = CouplingSubnet.create(store, `${prefix}.s2`, s2 + cfg.condChannels, cfg.hidden, 2 * s1, cfg.kernel, rng);
    return new ConditionalCouplingBlock(cfg, sub1, sub2);
  }

  /** Wire a block to parameters already in the store (e.g. loaded from a checkpoint). */
  static attach(store: ParameterStore, prefix: string, cfg: CouplingConfig): ConditionalCouplingBlock {
    return new ConditionalCouplingBlock(cfg, new CouplingSubnet(store, `${prefix}.s1`), new CouplingSubnet(store, `${prefix}.s2`));
  }

  /** The subnet's output, its scale channels already divided by alpha (folded into its last convolution). */
  private subnetOutput(sub: CouplingSubnet, input: tf.Tensor, scaleChannels: number): tf.Tensor4D {
    return sub.apply(input, { count: scaleChannels, factor: 1 / this.cfg.clamp });
  }

  /** The scale and shift halves of a subnet output (for the inverse). */
  private scaleAndShift(sub: CouplingSubnet, input: tf.Tensor, scaleChannels: number): [tf.Tensor4D, tf.Tensor4D] {
    return this.halves(this.subnetOutput(sub, input, scaleChannels), scaleChannels);
  }

  /** log of the soft-clamped scale, alpha * 0.636 * atan(s / alpha), from r = s / alpha. */
  private logScale(r: tf.Tensor4D): tf.Tensor4D {
    return tf.mul(tf.atan(r), this.logScaleFactor());
  }

  private logScaleFactor(): number {
    return this.cfg.clamp * 0.636;
  }

  /**
   * Channels [0, first) and [first, C). One split rather than two slices: its gradient is one
   * concat, where each slice's is a zero-padded full-size copy and the two are then added.
   */
  private halves(x: tf.Tensor, first: number): [tf.Tensor4D, tf.Tensor4D] {
    const [a, b] = tf.split(x, [first, x.shape[3]! - first], 3);
    return [a as tf.Tensor4D, b as tf.Tensor4D];
  }

  /** x1 and [x2, cond] from the block input, after the flow's channel permutation when given. */
  private splitInput(x: tf.Tensor4D, cond: tf.Tensor4D | null, permutation?: ChannelPermutation): [tf.Tensor4D, tf.Tensor4D] {
    if (permutation) {
      const fused = permuteSplit(x, permutation.perm as tf.Tensor as tf.Tensor1D, this.split1, cond);
      if (fused) return fused;
      x = permutation.forward(x);
    }
    const [x1, x2] = this.halves(x, this.split1);
    return [x1, withCondition(x2, cond) as tf.Tensor4D];
  }

  /**
   * y = [y1, y2] and the per-pixel log|det J|. `permutation`: the flow's channel permutation in
   * front of this block, applied here so that it joins the split into halves (one pass with the
   * fused ops, lib/ops/).
   */
  forward(x: tf.Tensor4D, cond: tf.Tensor4D | null, permutation?: ChannelPermutation): { y: tf.Tensor4D; logDet: tf.Tensor3D } {
    const k = this.logScaleFactor();
    const [x1, x2c] = this.splitInput(x, cond, permutation);
    // y1 = e(s2) * x1 + t2, returned with the condition appended: sub1's input
    const { y: y1c, logScaleSum: ls2 } = couplingHalf(this.subnetOutput(this.sub2, x2c, this.split1), x1, 0, k, cond);
    // y2 = e(s1) * x2 + t1, x2 = the first split2 channels of [x2, cond]
    const { y: y2, logScaleSum: ls1 } = couplingHalf(this.subnetOutput(this.sub1, y1c, this.split2), x2c, 0, k, null);
    const logDet = tf.add(ls1, ls2) as tf.Tensor3D;
    return { y: joinClip(y1c, this.split1, y2, -1e6, 1e6), logDet };
  }

  inverse(y: tf.Tensor4D, cond: tf.Tensor4D | null): tf.Tensor4D {
    const [y1, y2] = this.halves(y, this.split1);
    const [r1, t1] = this.scaleAndShift(this.sub1, withCondition(y1, cond), this.split2);
    const x2 = tf.div(tf.sub(y2, t1), tf.exp(this.logScale(r1)));
    const [r2, t2] = this.scaleAndShift(this.sub2, withCondition(x2, cond), this.split1);
    const x1 = tf.div(tf.sub(y1, t2), tf.exp(this.logScale(r2)));
    return tf.clipByValue(tf.concat([x1, x2], 3), -1e6, 1e6) as tf.Tensor4D;
  }
}
