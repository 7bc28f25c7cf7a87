/**
 * The asymmetric student: conv3x3 (features + PE -> hidden), LeakyReLU, `nBlocks` residual
 * blocks [conv, BN, LeakyReLU, conv, BN, LeakyReLU] + skip, conv3x3 (hidden -> features).
 * Zero padding. The positional encoding is concatenated *before* the features. Names follow
 * the official state dict (`net.conv1`, `net.res.{i}.{l1,l2,bn1,bn2}`, `net.conv2`).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BatchNormParams } from "../ops/batch_norm.ts";
import { batchNormLeakyRelu } from "../ops/batch_norm_leaky_relu.ts";
import { conv2dBias } from "../ops/conv2d_bias.ts";
import { initConv2d, ParameterStore } from "./parameters.ts";
import { batchPositionalEncoding } from "./positional_encoding.ts";
import { deriveSeed, mulberry32 } from "../util/random.ts";

export interface StudentConfig {
  /** feature channels in and out (the teacher's z has the same) */
  channels: number;
  hidden: number;
  nBlocks: number;
  /** 0.01 in the official code; the paper says 0.2 */
  leakySlope: number;
  /** 0 disables the positional encoding */
  posEncDim: number;
}

/** Running-statistics updates produced by a training-mode forward pass; apply after the step. */
export type BatchNormUpdate = [tf.Variable, tf.Tensor];

export class AsymmetricStudent {
  constructor(readonly cfg: StudentConfig, readonly params: ParameterStore) {}

  static create(cfg: StudentConfig, seed: number): AsymmetricStudent {
    const params = new ParameterStore();
    const rng = mulberry32(deriveSeed(seed, "student"));
    const conv = (name: string, cin: number, cout: number) => {
      const { weight, bias } = initConv2d(3, cin, cout, rng);
      params.addTrainable(`${name}.weight`, weight);
      params.addTrainable(`${name}.bias`, bias);
    };
    const bn = (name: string, c: number) => {
      params.addTrainable(`${name}.weight`, tf.ones([c]));
      params.addTrainable(`${name}.bias`, tf.zeros([c]));
      params.addBuffer(`${name}.running_mean`, tf.zeros([c]));
      params.addBuffer(`${name}.running_var`, tf.ones([c]));
    };
    conv("net.conv1", cfg.channels + cfg.posEncDim, cfg.hidden);
    for (let i = 0; i < cfg.nBlocks; i++) {
      conv(`net.res.${i}.l1`, cfg.hidden, cfg.hidden);
      conv(`net.res.${i}.l2`, cfg.hidden, cfg.hidden);
      bn(`net.res.${i}.bn1`, cfg.hidden);
      bn(`net.res.${i}.bn2`, cfg.hidden);
    }
    conv("net.conv2", cfg.hidden, cfg.channels);
    return new AsymmetricStudent(cfg, params);
  }

  private conv(name: string, x: tf.Tensor): tf.Tensor4D {
    const p = this.params;
    return conv2dBias(x as tf.Tensor4D, p.get(`${name}.weight`) as tf.Tensor4D, p.get(`${name}.bias`) as tf.Tensor1D, "zeros");
  }

  private bnParams(name: string): BatchNormParams {
    const p = this.params;
    return {
      weight: p.get(`${name}.weight`) as tf.Tensor1D,
      bias: p.get(`${name}.bias`) as tf.Tensor1D,
      runningMean: p.get(`${name}.running_mean`),
      runningVar: p.get(`${name}.running_var`),
    };
  }

  /**
   * x: [B,H,W,channels]. In training mode BatchNorm uses batch statistics and the returned
   * `updates` hold the new running statistics (the caller keeps and assigns them).
   */
  forward(x: tf.Tensor4D, pe: tf.Tensor3D | null, training: boolean): { out: tf.Tensor4D; updates: BatchNormUpdate[] } {
    if (x.rank !== 4 || x.shape[3] !== this.cfg.channels) {
      throw new Error(`student expects [B,H,W,${this.cfg.channels}] input, got [${x.shape}]`);
    }
    const slope = this.cfg.leakySlope;
    const updates: BatchNormUpdate[] = [];
    const bnLeaky = (name: string, h: tf.Tensor4D) => {
      const p = this.bnParams(name);
      const r = batchNormLeakyRelu(h, p, training, slope);
      if (r.newMean && r.newVar) updates.push([p.runningMean, r.newMean], [p.runningVar, r.newVar]);
      return r.y;
    };
    const input = pe && this.cfg.posEncDim > 0 ? tf.concat([batchPositionalEncoding(pe, x.shape[0]), x], 3) : x;
    let h = tf.leakyRelu(this.conv("net.conv1", input), slope);
    for (let i = 0; i < this.cfg.nBlocks; i++) {
      const r = `net.res.${i}`;
      let y = bnLeaky(`${r}.bn1`, this.conv(`${r}.l1`, h));
      y = bnLeaky(`${r}.bn2`, this.conv(`${r}.l2`, y));
      h = tf.add(y, h);
    }
    return { out: this.conv("net.conv2", h), updates };
  }

  dispose(): void {
    this.params.dispose();
  }
}
