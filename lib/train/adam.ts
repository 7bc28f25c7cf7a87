/**
 * Adam as PyTorch implements it, with weight decay added to the gradient (coupled L2, not
 * AdamW): g += wd * p; m, v moments; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * State is kept per parameter name so it can be checkpointed and resumed.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AdamConfig } from "../config/ast_config.ts";
import { adamStepKernel } from "../ops/adam_step.ts";

export type { AdamConfig };

export const REFERENCE_ADAM: AdamConfig = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 };

export class Adam {
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** one fused kernel per parameter where the backend has it (lib/ops/adam_step.ts); false: composed ops */
  useKernel = true;

  constructor(readonly cfg: AdamConfig, readonly params: Map<string, tf.Variable>) {
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** Apply one update from gradients keyed like `params`. */
  apply(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>): void {
    this.step++;
    const { lr, beta1, beta2, eps, weightDecay } = this.cfg;
    const stepSize = lr / (1 - beta1 ** this.step);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    const get = (n: string) => grads instanceof Map ? grads.get(n) : grads[n];
    for (const [name, p] of this.params) {
      const g0 = get(name);
      if (!g0) continue;
      const m = this.m.get(name)!, v = this.v.get(name)!;
      const fused = this.useKernel ? adamStepKernel(p, g0, m, v, { stepSize, bc2Sqrt, beta1, beta2, eps, weightDecay }) : null;
      if (fused) {
        p.assign(fused[0]);
        m.assign(fused[1]);
        v.assign(fused[2]);
        tf.dispose(fused);
        continue;
      }
      tf.tidy(() => {
        const g = weightDecay ? tf.add(g0, tf.mul(p, weightDecay)) : g0;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
