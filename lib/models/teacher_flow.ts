/**
 * The teacher: a conditional normalizing flow of `nBlocks` x (fixed channel permutation,
 * conditional affine coupling), conditioned on the positional encoding. Parameter names follow
 * the official state dict: permutations at `net.module_list.{2+2k}.perm`, couplings at
 * `net.module_list.{3+2k}.s{1,2}.*`. Also used as the symmetric (flow) student of the ablation.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ChannelPermutation } from "./flow/channel_permutation.ts";
import { ConditionalCouplingBlock, type CouplingConfig } from "./flow/coupling_block.ts";
import { ParameterStore } from "./parameters.ts";
import { batchPositionalEncoding } from "./positional_encoding.ts";
import { deriveSeed, mulberry32, numpyLegacyPermutation, permutation } from "../util/random.ts";
import type { FlowPermutations } from "../config/ast_config.ts";

export interface FlowConfig {
  /** input channels (features + depth) */
  channels: number;
  hidden: number;
  nBlocks: number;
  /** per block, cycled when nBlocks exceeds its length (reference: [3,3,3,5]) */
  kernelSizes: number[];
  clamp: number;
  /** 0 disables the positional-encoding condition (Table 7 ablation) */
  posEncDim: number;
  /**
   * "reference": block k's permutation is numpy's `np.random.seed(k); np.random.permutation(C)`
   * whatever the seed, as the official code; "seeded" (default here): drawn from `seed`.
   */
  permutations?: FlowPermutations;
}

export const permName = (k: number) => `net.module_list.${2 + 2 * k}.perm`;
export const couplingPrefix = (k: number) => `net.module_list.${3 + 2 * k}`;

function couplingConfig(cfg: FlowConfig, k: number): CouplingConfig {
  return {
    channels: cfg.channels,
    condChannels: cfg.posEncDim,
    hidden: cfg.hidden,
    kernel: cfg.kernelSizes[k % cfg.kernelSizes.length],
    clamp: cfg.clamp,
  };
}

export class TeacherFlow {
  readonly blocks: { perm: ChannelPermutation; coupling: ConditionalCouplingBlock }[] = [];

  /** Wire the flow to parameters already in `params` (fresh, or loaded from a checkpoint). */
  constructor(readonly cfg: FlowConfig, readonly params: ParameterStore) {
    for (let k = 0; k < cfg.nBlocks; k++) {
      this.blocks.push({
        perm: new ChannelPermutation(params.get(permName(k))),
        coupling: ConditionalCouplingBlock.attach(params, couplingPrefix(k), couplingConfig(cfg, k)),
      });
    }
  }

  /** A freshly initialised flow: fixed or seeded permutations, PyTorch-default conv initialisation. */
  static create(cfg: FlowConfig, seed: number): TeacherFlow {
    const params = new ParameterStore();
    for (let k = 0; k < cfg.nBlocks; k++) {
      const perm = cfg.permutations === "reference"
        ? numpyLegacyPermutation(cfg.channels, k)
        : permutation(cfg.channels, mulberry32(deriveSeed(seed, `perm${k}`)));
      params.addBuffer(permName(k), tf.tensor1d(perm, "int32"));
      ConditionalCouplingBlock.create(params, couplingPrefix(k), couplingConfig(cfg, k), mulberry32(deriveSeed(seed, `coupling${k}`)));
    }
    return new TeacherFlow(cfg, params);
  }

  /** x: [B,H,W,C] features; pe: [H,W,posEncDim]. Returns z and the per-pixel log|det J| [B,H,W]. */
  forward(x: tf.Tensor4D, pe: tf.Tensor3D | null): { z: tf.Tensor4D; logDet: tf.Tensor3D } {
    this.checkInput(x);
    const cond = pe ? batchPositionalEncoding(pe, x.shape[0]) : null;
    let z = x;
    let logDet: tf.Tensor3D = tf.zeros(x.shape.slice(0, 3) as [number, number, number]);
    for (const { perm, coupling } of this.blocks) {
      const out = coupling.forward(z, cond, perm);
      z = out.y;
      logDet = tf.add(logDet, out.logDet);
    }
    return { z, logDet };
  }

  /** Exact inverse: x = f^-1(z). */
  inverse(z: tf.Tensor4D, pe: tf.Tensor3D | null): tf.Tensor4D {
    this.checkInput(z);
    const cond = pe ? batchPositionalEncoding(pe, z.shape[0]) : null;
    let x = z;
    for (let k = this.blocks.length - 1; k >= 0; k--) {
      x = this.blocks[k].perm.inverse(this.blocks[k].coupling.inverse(x, cond));
    }
    return x;
  }

  private checkInput(x: tf.Tensor4D): void {
    if (x.rank !== 4 || x.shape[3] !== this.cfg.channels) {
      throw new Error(`flow expects [B,H,W,${this.cfg.channels}] input, got [${x.shape}]`);
    }
  }

  dispose(): void {
    this.params.dispose();
  }
}
