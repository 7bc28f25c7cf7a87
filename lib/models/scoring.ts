/**
 * From per-pixel distances to anomaly maps and image scores, as the official evaluation does:
 * the 24x24 distance map (mask applied once) gives the *mean* score; multiplied by the mask a
 * second time and bicubic-upsampled (PyTorch semantics) it gives the anomaly map, whose *max*
 * is the image score the paper reports.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Anomaly maps are upsampled to 8x the feature-map side (the paper's input / feature stride). */
export const mapOutSize = (mapLen: number) => mapLen * 8;

/** PyTorch cubic convolution, A = -0.75. */
const A = -0.75;
const cubic1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const cubic2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/**
 * Interpolation matrix [outSize, inSize] of F.interpolate(mode='bicubic', align_corners=False):
 * source = (dst + 0.5) * in/out - 0.5, four taps around floor(source), indices clamped.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const w = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const real = scale * (o + 0.5) - 0.5;
    const idx = Math.min(Math.floor(real), inSize - 1);
    const t = Math.min(Math.max(real - idx, 0), 1);
    const coeffs = [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
    for (let j = 0; j < 4; j++) {
      const src = Math.min(Math.max(idx - 1 + j, 0), inSize - 1);
      w[o * inSize + src] += coeffs[j];
    }
  }
  return w;
}

/** Bicubic resize of maps [B,h,w] -> [B,outH,outW] (separable: rows, then columns). */
export function bicubicResize(maps: tf.Tensor3D, outH: number, outW: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, w] = maps.shape;
    const wh = tf.tensor2d(bicubicMatrix(h, outH), [outH, h]);
    const ww = tf.tensor2d(bicubicMatrix(w, outW), [outW, w]);
    // columns: [B*h, w] x [w, outW]
    const cols = tf.matMul(tf.reshape(maps, [b * h, w]), ww, false, true);
    // rows: bring h last, [B*outW, h] x [h, outH]
    const t = tf.reshape(tf.transpose(tf.reshape(cols, [b, h, outW]), [0, 2, 1]), [b * outW, h]);
    const rows = tf.matMul(t, wh, false, true);
    return tf.transpose(tf.reshape(rows, [b, outW, outH]), [0, 2, 1]) as tf.Tensor3D;
  });
}

export interface ImageScores {
  /** anomaly maps after the second mask multiplication and bicubic upsampling [B,outSize,outSize] */
  anomalyMap: tf.Tensor3D;
  /** max of the anomaly map (the paper's image score) */
  scoreMax: tf.Tensor1D;
  /** mean of the low-resolution distance map (mask applied once) */
  scoreMean: tf.Tensor1D;
}

/**
 * distance: [B,h,w] per-pixel distances with the mask applied once; mask: [B,h,w] soft mask or
 * null (no foreground mask in evaluation).
 */
export function imageScores(distance: tf.Tensor3D, mask: tf.Tensor3D | null, outSize: number): ImageScores {
  return tf.tidy(() => {
    const evalMap = mask ? tf.mul(distance, mask) as tf.Tensor3D : distance;
    const anomalyMap = bicubicResize(evalMap, outSize, outSize);
    return {
      anomalyMap,
      scoreMax: tf.max(anomalyMap, [1, 2]) as tf.Tensor1D,
      scoreMean: tf.mean(distance, [1, 2]) as tf.Tensor1D,
    };
  });
}
