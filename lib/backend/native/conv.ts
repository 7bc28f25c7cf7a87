/**
 * 2-D convolution (NHWC, filters HWIO) as im2col + SGEMM on plain Float32Arrays, and its two
 * gradients, for any stride / dilation / padding tfjs' Conv2DInfo describes:
 *
 *   forward      y[P, O]   = cols[P, K] @ W[K, O]                  (P = N*Ho*Wo, K = kh*kw*I)
 *   input grad   dx        = col2im(dy[P, O] @ W[K, O]^T)
 *   filter grad  dW[K, O]  = cols[P, K]^T @ dy[P, O]
 *
 * The column matrix is built in chunks of output rows (bounded scratch memory: the hidden-1024
 * student's full matrix would be 170 MB), and skipped for 1x1 stride-1 unpadded convs, whose
 * input already is the column matrix.
 */
import type { Blas } from "./openblas.ts";

/** The fields of tf.backend_util.Conv2DInfo these kernels use. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

/** Column-matrix scratch per chunk: 16 Mi floats (64 MB). */
const SCRATCH_FLOATS = 1 << 24;
let scratch = new Float32Array(0);

function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch.length === n ? scratch : scratch.subarray(0, n);
}

/** Output rows per chunk so that rows x K floats fit the scratch (at least one row). */
function chunkRows(g: ConvGeometry): number {
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  return Math.max(1, Math.floor(SCRATCH_FLOATS / k));
}

function isPointwise(g: ConvGeometry): boolean {
  return g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 &&
    g.padInfo.top === 0 && g.padInfo.left === 0 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
}

/** cols[r - r0, :] for output rows r0 .. r0+rows-1 (row = (b, oy, ox)); zeros where padded. */
export function im2col(x: Float32Array, g: ConvGeometry, r0: number, rows: number, cols: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, filterHeight: KH, filterWidth: KW } = g;
  const K = KH * KW * C;
  for (let i = 0; i < rows; i++) {
    const r = r0 + i;
    const b = Math.floor(r / (Ho * Wo)), rem = r - b * Ho * Wo;
    const oy = Math.floor(rem / Wo), ox = rem - oy * Wo;
    const y0 = oy * g.strideHeight - g.padInfo.top, x0 = ox * g.strideWidth - g.padInfo.left;
    let o = i * K;
    for (let ky = 0; ky < KH; ky++) {
      const iy = y0 + ky * g.dilationHeight;
      if (iy < 0 || iy >= H) {
        cols.fill(0, o, o + KW * C);
        o += KW * C;
        continue;
      }
      const rowBase = (b * H + iy) * W;
      for (let kx = 0; kx < KW; kx++, o += C) {
        const ix = x0 + kx * g.dilationWidth;
        if (ix < 0 || ix >= W) cols.fill(0, o, o + C);
        else {
          const s = (rowBase + ix) * C;
          cols.set(x.subarray(s, s + C), o);
        }
      }
    }
  }
}

/** dx += col2im(dcols) for output rows r0 .. r0+rows-1 (the adjoint of im2col). */
export function col2imAdd(dcols: Float32Array, g: ConvGeometry, r0: number, rows: number, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, filterHeight: KH, filterWidth: KW } = g;
  const K = KH * KW * C;
  for (let i = 0; i < rows; i++) {
    const r = r0 + i;
    const b = Math.floor(r / (Ho * Wo)), rem = r - b * Ho * Wo;
    const oy = Math.floor(rem / Wo), ox = rem - oy * Wo;
    const y0 = oy * g.strideHeight - g.padInfo.top, x0 = ox * g.strideWidth - g.padInfo.left;
    let o = i * K;
    for (let ky = 0; ky < KH; ky++) {
      const iy = y0 + ky * g.dilationHeight;
      if (iy < 0 || iy >= H) {
        o += KW * C;
        continue;
      }
      const rowBase = (b * H + iy) * W;
      for (let kx = 0; kx < KW; kx++, o += C) {
        const ix = x0 + kx * g.dilationWidth;
        if (ix < 0 || ix >= W) continue;
        const d = (rowBase + ix) * C;
        for (let c = 0; c < C; c++) dx[d + c] += dcols[o + c];
      }
    }
  }
}

/** y [N,Ho,Wo,O] = conv(x [N,H,W,I], w [kh,kw,I,O]). */
export function conv2dForward(blas: Blas, x: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const y = new Float32Array(P * O);
  if (isPointwise(g)) {
    blas.sgemm(false, false, P, O, K, 1, x, w, 0, y);
    return y;
  }
  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const cols = scratchOf(rows * K);
    im2col(x, g, r0, rows, cols);
    blas.sgemm(false, false, rows, O, K, 1, cols, w, 0, y.subarray(r0 * O, (r0 + rows) * O));
  }
  return y;
}

/** dx [N,H,W,I] from dy [N,Ho,Wo,O] and w [kh,kw,I,O]. */
export function conv2dBackpropInput(blas: Blas, dy: Float32Array, w: Float32Array, g: ConvGeometry): Float32Array {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const dx = new Float32Array(g.batchSize * g.inHeight * g.inWidth * g.inChannels);
  if (isPointwise(g)) {
    blas.sgemm(false, true, P, K, O, 1, dy, w, 0, dx);
    return dx;
  }
  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const dcols = scratchOf(rows * K);
    blas.sgemm(false, true, rows, K, O, 1, dy.subarray(r0 * O, (r0 + rows) * O), w, 0, dcols);
    col2imAdd(dcols, g, r0, rows, dx);
  }
  return dx;
}

/** dW [kh,kw,I,O] from x [N,H,W,I] and dy [N,Ho,Wo,O]. */
export function conv2dBackpropFilter(blas: Blas, x: Float32Array, dy: Float32Array, g: ConvGeometry): Float32Array {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const dw = new Float32Array(K * O);
  if (isPointwise(g)) {
    blas.sgemm(true, false, K, O, P, 1, x, dy, 0, dw);
    return dw;
  }
  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const cols = scratchOf(rows * K);
    im2col(x, g, r0, rows, cols);
    blas.sgemm(true, false, K, O, rows, 1, cols, dy.subarray(r0 * O, (r0 + rows) * O), r0 === 0 ? 0 : 1, dw);
  }
  return dw;
}
