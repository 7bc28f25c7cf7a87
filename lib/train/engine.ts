/**
 * The training engine: epochs of shuffled mini-batches (last partial batch dropped), a seeded
 * order that depends only on (seed, phase, epoch) so an interrupted run resumes identically,
 * a finiteness check on every step, and per-epoch hooks for progress and checkpoints.
 */
import * as tf from "@tensorflow/tfjs-core";
import "./register_gradients.ts";
import { deriveSeed, mulberry32, permutation } from "../util/random.ts";
import type { Adam } from "./adam.ts";
import type { ParameterStore } from "../models/parameters.ts";
import type { EpochReport } from "../types.ts";

export class TrainingError extends Error {}

export type { EpochReport };

export interface TrainData {
  /** [N,H,W,C] */
  x: tf.Tensor4D;
  /** [N,H,W,1] soft masks, or null */
  masks: tf.Tensor4D | null;
}

export interface LoopOptions {
  phase: string;
  epochs: number;
  /** epochs already completed (resume) */
  startEpoch: number;
  batchSize: number;
  seed: number;
  params: ParameterStore;
  optimizer: Adam;
  /** the scalar loss of a batch; may push BatchNorm running-statistics updates */
  loss: (x: tf.Tensor4D, masks: tf.Tensor4D | null, updates: [tf.Variable, tf.Tensor][]) => tf.Scalar;
  onEpoch?: (r: EpochReport) => void | Promise<void>;
}

/** Indices of the batches of one epoch. */
export function epochBatches(n: number, batchSize: number, seed: number, phase: string, epoch: number): Int32Array[] {
  const order = permutation(n, mulberry32(deriveSeed(seed, `shuffle:${phase}:${epoch}`)));
  const batches: Int32Array[] = [];
  for (let b = 0; b + batchSize <= n; b += batchSize) batches.push(order.slice(b, b + batchSize));
  return batches;
}

export async function trainLoop(data: TrainData, o: LoopOptions): Promise<void> {
  const n = data.x.shape[0];
  if (n < o.batchSize) throw new TrainingError(`${o.phase}: ${n} training images, fewer than one batch of ${o.batchSize}`);
  const vars = [...o.params.trainable.values()];
  const nameOf = new Map([...o.params.trainable].map(([name, v]) => [v.name, name]));
  for (let epoch = o.startEpoch + 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    let sum = 0, steps = 0;
    for (const idx of epochBatches(n, o.batchSize, o.seed, o.phase, epoch)) {
      steps++;
      const updates: [tf.Variable, tf.Tensor][] = [];
      const { value, grads } = tf.tidy(() => {
        const index = tf.tensor1d(idx, "int32");
        const xb = tf.gather(data.x, index) as tf.Tensor4D;
        const mb = data.masks ? tf.gather(data.masks, index) as tf.Tensor4D : null;
        return tf.variableGrads(() => {
          const pending: [tf.Variable, tf.Tensor][] = [];
          const l = o.loss(xb, mb, pending);
          for (const [v, t] of pending) updates.push([v, tf.keep(t)]);
          return l;
        }, vars);
      });
      const loss = (await value.data())[0];
      if (!Number.isFinite(loss)) {
        tf.dispose([value, ...Object.values(grads), ...updates.map(([, t]) => t)]);
        throw new TrainingError(`${o.phase} training diverged: loss ${loss} at epoch ${epoch}, step ${steps}`);
      }
      const named = new Map<string, tf.Tensor>();
      for (const [vn, g] of Object.entries(grads)) named.set(nameOf.get(vn)!, g);
      o.optimizer.apply(named);
      for (const [v, t] of updates) v.assign(t);
      tf.dispose([value, ...Object.values(grads), ...updates.map(([, t]) => t)]);
      sum += loss;
    }
    await o.onEpoch?.({
      phase: o.phase,
      epoch,
      epochs: o.epochs,
      loss: sum / steps,
      seconds: (performance.now() - t0) / 1000,
      numTensors: tf.memory().numTensors,
    });
  }
}
