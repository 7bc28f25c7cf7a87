/** Fixed channel permutation (`out = in[..., perm]`); invertible with log-det 0. */
import * as tf from "@tensorflow/tfjs-core";

export class ChannelPermutation {
  /** The permutation lives in the parameter store (it is saved and may be loaded later). */
  constructor(readonly perm: tf.Variable) {}

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.gather(x, this.perm as tf.Tensor1D, 3);
  }

  /** Inverse index computed on demand, so a permutation loaded after construction is honoured. */
  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const p = this.perm.dataSync();
    const inv = new Int32Array(p.length);
    for (let i = 0; i < p.length; i++) inv[p[i]] = i;
    return tf.tidy(() => tf.gather(y, tf.tensor1d(inv, "int32"), 3));
  }
}
