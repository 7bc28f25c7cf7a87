/**
 * 2-D sinusoidal positional encoding of the official implementation: channels [0, D/2) encode
 * the column, [D/2, D) the row; within each half even channels are sin, odd channels cos, with
 * frequency 10000^(-k/(D/2)) for k = 0, 2, ... Returned HWC (tfjs layout).
 */
import * as tf from "@tensorflow/tfjs-core";

export function positionalEncodingValues(dim: number, height: number, width: number): Float32Array {
  if (dim % 4 !== 0) throw new Error(`positional encoding dim must be a multiple of 4, got ${dim}`);
  const half = dim / 2;
  const out = new Float32Array(height * width * dim);
  // Computed in float32 steps like torch: div = exp(k * -(ln(1e4)/half)), angle = pos * div.
  const f = Math.fround;
  const divTerms: number[] = [];
  for (let k = 0; k < half; k += 2) divTerms.push(f(Math.exp(f(k * f(-(Math.log(1e4) / half))))));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * dim;
      divTerms.forEach((div, i) => {
        const ax = f(x * div), ay = f(y * div);
        out[o + 2 * i] = Math.sin(ax);
        out[o + 2 * i + 1] = Math.cos(ax);
        out[o + half + 2 * i] = Math.sin(ay);
        out[o + half + 2 * i + 1] = Math.cos(ay);
      });
    }
  }
  return out;
}

/** Positional encoding as a [height, width, dim] tensor. */
export function positionalEncoding(dim: number, height: number, width = height): tf.Tensor3D {
  return tf.tensor3d(positionalEncodingValues(dim, height, width), [height, width, dim]);
}

/**
 * Broadcast the encoding over a batch: [batch, height, width, dim]. A concat of copies, not
 * tf.tile: the same values, but wasm's Tile kernel is an element loop (~20 ms for 8 x 24x24x32).
 */
export function batchPositionalEncoding(pe: tf.Tensor3D, batch: number): tf.Tensor4D {
  return tf.tidy(() => {
    const one = tf.expandDims(pe, 0) as tf.Tensor4D;
    return batch === 1 ? one : tf.concat(Array(batch).fill(one), 0) as tf.Tensor4D;
  });
}
