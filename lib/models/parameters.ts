/**
 * A named parameter store. Names are the official implementation's state-dict keys, so
 * checkpoints exchange with PyTorch by name alone; tensors are kept in tfjs layout
 * (conv kernels HWIO) and converted at the file boundary (see state_dict.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { uniformArray } from "../util/random.ts";

export class ParameterStore {
  /** Trained by the optimiser. */
  readonly trainable = new Map<string, tf.Variable>();
  /** Saved but not trained: BatchNorm running statistics, flow permutations (int32). */
  readonly buffers = new Map<string, tf.Variable>();

  addTrainable(name: string, value: tf.Tensor): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(value, true, `${name}#${crypto.randomUUID()}`);
    value.dispose();
    this.trainable.set(name, v);
    return v;
  }

  addBuffer(name: string, value: tf.Tensor): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(value, false, `${name}#${crypto.randomUUID()}`);
    value.dispose();
    this.buffers.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.buffers.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** All entries, trainable first, in insertion order. */
  entries(): [string, tf.Variable][] {
    return [...this.trainable.entries(), ...this.buffers.entries()];
  }

  countTrainable(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const [, v] of this.entries()) v.dispose();
    this.trainable.clear();
    this.buffers.clear();
  }
}

/**
 * PyTorch's default Conv2d initialisation (kaiming_uniform with a = sqrt(5)): weights and
 * biases both U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Returns an HWIO kernel and a bias.
 */
export function initConv2d(
  kernel: number,
  inChannels: number,
  outChannels: number,
  rng: () => number,
): { weight: tf.Tensor4D; bias: tf.Tensor1D } {
  const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
  const weight = tf.tensor4d(
    uniformArray(kernel * kernel * inChannels * outChannels, -bound, bound, rng),
    [kernel, kernel, inChannels, outChannels],
  );
  const bias = tf.tensor1d(uniformArray(outChannels, -bound, bound, rng));
  return { weight, bias };
}
