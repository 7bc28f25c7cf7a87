/**
 * The loops behind AST Lab's fused kernels (coupling half, channel permutation split, join +
 * clip, BatchNorm + LeakyReLU, swish; also edge padding and Adam's step), on flat NHWC float32
 * arrays: P pixels, a channel range of a tensor given as (array, channel count = stride, first
 * channel = offset). The ops they implement, with their formulas, are in lib/ops/.
 *
 * Two implementations with one contract: `jsFusedMath` (plain loops; the cpu backend's kernels
 * and the reference in tests) and the native one (lib/backend/native/fused_library.ts, compiled
 * from fused_kernels.c, whose comments give each function's formula).
 */
import type { AdamStepAttrs } from "../../ops/adam_step.ts";
import { adamStepValues } from "./adam_loop.ts";
import { replicatePadGradValues, replicatePadValues } from "./pad_loops.ts";
import { toBf16Bits } from "./bf16_values.ts";

export interface FusedMath {
  readonly name: string;
  /** y[:, 0:n] (stride ys) = exp(k atan(o[:, :n])) * x[:, xo:xo+n] + o[:, n:2n]; ls = sum_c k atan(o[:, c]) */
  couplingForward(
    P: number, n: number, o: Float32Array, x: Float32Array, xs: number, xo: number, k: number,
    y: Float32Array, ys: number, ls: Float32Array,
  ): void;
  /** do = [(dy x e + dls) k / (1 + r^2), dy]; dx (stride dxs) = dy e at channels [dxo, dxo+n), 0 elsewhere */
  couplingBackward(
    P: number, n: number, o: Float32Array, x: Float32Array, xs: number, xo: number, k: number,
    dy: Float32Array, dys: number, dls: Float32Array, dout: Float32Array,
    dx: Float32Array, dxs: number, dxo: number,
  ): void;
  /** out[:, oo + j] = src[:, idx ? idx[j] : so + j] */
  gatherChannels(
    P: number, n: number, src: Float32Array, ss: number, so: number, idx: Int32Array | null,
    out: Float32Array, os: number, oo: number,
  ): void;
  /** dst[:, idx[j]] = src[:, so + j] */
  scatterChannels(P: number, n: number, src: Float32Array, ss: number, so: number, idx: Int32Array, dst: Float32Array, ds: number): void;
  /**
   * out[:, oo + c] = clip(src[:, so + c], lo, hi); with dy: the clip's gradient, dy[:, dyo + c]
   * where lo <= src <= hi else 0, out's other channels zero.
   */
  copyClip(
    P: number, n: number, src: Float32Array, ss: number, so: number,
    dy: Float32Array | null, dys: number, dyo: number, lo: number, hi: number,
    out: Float32Array, os: number, oo: number,
  ): void;
  /** per-channel mean and biased variance of x [P, C] */
  channelMoments(P: number, C: number, x: Float32Array, mean: Float32Array, variance: Float32Array): void;
  /** y = leaky((x - mean) invstd w + b) */
  bnLeakyForward(
    P: number, C: number, x: Float32Array, mean: Float32Array, invstd: Float32Array,
    w: Float32Array, b: Float32Array, slope: number, y: Float32Array,
  ): void;
  /** training-mode gradient from dy and the forward output y: dx, dw, db */
  bnLeakyBackward(
    P: number, C: number, x: Float32Array, y: Float32Array, dy: Float32Array,
    mean: Float32Array, invstd: Float32Array, w: Float32Array, slope: number,
    dx: Float32Array, dw: Float32Array, db: Float32Array,
  ): void;
  /** y = x * sigmoid(x) over all of x */
  swish(x: Float32Array, y: Float32Array): void;
  /** y = swish(x) for x [B, P, C], and means[b, c] = mean over p of y[b, p, c] */
  swishMeans(B: number, P: number, C: number, x: Float32Array, y: Float32Array, means: Float32Array): void;
  /** y16 = bf16 bits of swish(x) (bf16_values.ts rounding) over all of x */
  swishBf16(x: Float32Array, y16: Uint16Array): void;
  /** swishMeans with y stored as bf16 bits; the means are of the float32 values */
  swishMeansBf16(B: number, P: number, C: number, x: Float32Array, y16: Uint16Array, means: Float32Array): void;
  /** in place: relu, relu6 or leaky relu (alpha) over all of y (a convolution's fresh output) */
  activationInPlace(y: Float32Array, kind: "relu" | "relu6" | "leakyrelu", alpha: number): void;
  /** edge padding of x [N,H,W,C] by `pad` into out [N,H+2p,W+2p,C] (lib/ops/replicate_pad.ts) */
  replicatePad(shape: [number, number, number, number], pad: number, x: Float32Array, out: Float32Array): void;
  /** its gradient: dx [N,H,W,C] (overwritten) from dy [N,H+2p,W+2p,C] */
  replicatePadGrad(shape: [number, number, number, number], pad: number, dy: Float32Array, dx: Float32Array): void;
  /** one Adam step over all of p (adam_loop.ts); outputs may alias nothing */
  adamStep(
    p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
    outP: Float32Array, outM: Float32Array, outV: Float32Array, a: AdamStepAttrs,
  ): void;
}

const f32 = Math.fround;

export const jsFusedMath: FusedMath = {
  name: "js",
  couplingForward(P, n, o, x, xs, xo, k, y, ys, ls) {
    for (let p = 0; p < P; p++) {
      const ob = p * 2 * n, xb = p * xs + xo, yb = p * ys;
      let s = 0;
      for (let c = 0; c < n; c++) {
        const l = f32(k * Math.atan(o[ob + c]));
        s += l;
        y[yb + c] = Math.exp(l) * x[xb + c] + o[ob + n + c];
      }
      ls[p] = s;
    }
  },
  couplingBackward(P, n, o, x, xs, xo, k, dy, dys, dls, dout, dx, dxs, dxo) {
    dx.fill(0);
    for (let p = 0; p < P; p++) {
      const ob = p * 2 * n, xb = p * xs + xo, gb = p * dys, gl = dls[p];
      for (let c = 0; c < n; c++) {
        const r = o[ob + c], g = dy[gb + c];
        const e = Math.exp(f32(k * Math.atan(r)));
        dout[ob + c] = (g * x[xb + c] * e + gl) * k / (1 + r * r);
        dout[ob + n + c] = g;
        dx[p * dxs + dxo + c] = g * e;
      }
    }
  },
  gatherChannels(P, n, src, ss, so, idx, out, os, oo) {
    for (let p = 0; p < P; p++) {
      const sb = p * ss, ob = p * os + oo;
      for (let j = 0; j < n; j++) out[ob + j] = src[sb + (idx ? idx[j] : so + j)];
    }
  },
  scatterChannels(P, n, src, ss, so, idx, dst, ds) {
    for (let p = 0; p < P; p++) {
      const sb = p * ss + so, db = p * ds;
      for (let j = 0; j < n; j++) dst[db + idx[j]] = src[sb + j];
    }
  },
  copyClip(P, n, src, ss, so, dy, dys, dyo, lo, hi, out, os, oo) {
    if (dy) out.fill(0);
    for (let p = 0; p < P; p++) {
      const sb = p * ss + so, ob = p * os + oo;
      for (let c = 0; c < n; c++) {
        const v = src[sb + c];
        if (dy) out[ob + c] = v >= lo && v <= hi ? dy[p * dys + dyo + c] : 0;
        else out[ob + c] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  },
  channelMoments(P, C, x, mean, variance) {
    const s = new Float64Array(C), q = new Float64Array(C);
    for (let i = 0; i < P * C; i++) s[i % C] += x[i];
    for (let c = 0; c < C; c++) mean[c] = s[c] / P;
    for (let i = 0; i < P * C; i++) {
      const d = x[i] - mean[i % C];
      q[i % C] += d * d;
    }
    for (let c = 0; c < C; c++) variance[c] = q[c] / P;
  },
  bnLeakyForward(P, C, x, mean, invstd, w, b, slope, y) {
    for (let i = 0; i < P * C; i++) {
      const c = i % C;
      const u = f32(f32(f32(x[i] - mean[c]) * invstd[c]) * w[c]) + b[c];
      y[i] = u > 0 ? u : slope * u;
    }
  },
  bnLeakyBackward(P, C, x, y, dy, mean, invstd, w, slope, dx, dw, db) {
    const sg = new Float64Array(C), sgx = new Float64Array(C);
    for (let i = 0; i < P * C; i++) {
      const c = i % C;
      const g = y[i] > 0 ? dy[i] : slope * dy[i];
      sg[c] += g;
      sgx[c] += g * f32(f32(x[i] - mean[c]) * invstd[c]);
    }
    for (let c = 0; c < C; c++) {
      db[c] = sg[c];
      dw[c] = sgx[c];
    }
    for (let i = 0; i < P * C; i++) {
      const c = i % C;
      const g = y[i] > 0 ? dy[i] : slope * dy[i];
      const xh = f32(f32(x[i] - mean[c]) * invstd[c]);
      dx[i] = w[c] * invstd[c] * (g - f32(sg[c] / P) - xh * f32(sgx[c] / P));
    }
  },
  swish(x, y) {
    for (let i = 0; i < x.length; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
  },
  swishMeans(B, P, C, x, y, means) {
    jsFusedMath.swish(x, y);
    for (let b = 0; b < B; b++) {
      const s = new Float64Array(C);
      for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) s[c] += y[(b * P + p) * C + c];
      for (let c = 0; c < C; c++) means[b * C + c] = s[c] / P;
    }
  },
  swishBf16(x, y16) {
    const y = new Float32Array(x.length);
    jsFusedMath.swish(x, y);
    toBf16Bits(y, y16);
  },
  swishMeansBf16(B, P, C, x, y16, means) {
    const y = new Float32Array(x.length);
    jsFusedMath.swishMeans(B, P, C, x, y, means);
    toBf16Bits(y, y16);
  },
  activationInPlace(y, kind, alpha) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      y[i] = kind === "relu" ? (v < 0 ? 0 : v) : kind === "relu6" ? (v < 0 ? 0 : v > 6 ? 6 : v) : v < 0 ? alpha * v : v;
    }
  },
  replicatePad: (shape, pad, x, out) => replicatePadValues(x, shape, pad, out),
  replicatePadGrad: (shape, pad, dy, dx) => replicatePadGradValues(dy, shape, pad, dx),
  adamStep: adamStepValues,
};
