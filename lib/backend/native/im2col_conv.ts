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
  padInfo: { top: number; left: number; bottom?: number; right?: number };
}

/** Stride-1 'same' geometry of a k x k conv on size x size maps (the bench's and the tests' shapes). */
export function sameGeometry(batch: number, size: number, cin: number, cout: number, k: number): ConvGeometry {
  return {
    batchSize: batch, inHeight: size, inWidth: size, inChannels: cin,
    outHeight: size, outWidth: size, outChannels: cout,
    filterHeight: k, filterWidth: k, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1,
    padInfo: { top: (k - 1) >> 1, left: (k - 1) >> 1, bottom: (k - 1) >> 1, right: (k - 1) >> 1 },
  };
}

/** Column-matrix scratch per chunk: 16 Mi floats (64 MB). */
const SCRATCH_FLOATS = 1 << 24;
let scratch = new Float32Array(0);

function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch.length === n ? scratch : scratch.subarray(0, n);
}

/** Named scratch buffers for the shifted-GEMM path (grow, never shrink). */
const buffers = new Map<string, Float32Array>();
function buffer(name: string, n: number): Float32Array {
  let b = buffers.get(name);
  if (!b || b.length < n) buffers.set(name, b = new Float32Array(n));
  return b.subarray(0, n);
}

/**
 * Stride-1, dilation-1 convolutions without a column matrix: on the zero-padded input laid out
 * as rows of C floats, output pixel p of the padded grid is sum over taps t of
 * xp[p + offset_t] @ W_t, so each tap is one GEMM over all rows at once (beta = 1 accumulates).
 * Rows that fall in the padding are computed and dropped; that costs (Hp*Wp)/(Ho*Wo) - 1 extra
 * (17% at 24x24, 3x3), less than building im2col's 9x larger matrix (measured: 256 channels
 * 32 vs 37 ms forward; equal at 1024). The filter gradient stays on im2col: its transposed
 * GEMMs over the padded grid measured slower (31 vs 27 ms at 256, 374 vs 327 at 1024).
 */
interface PaddedGrid {
  hp: number;
  wp: number;
  /** rows computed per tap: the last full output row's end, so every tap stays inside xp */
  rows: number;
}

function paddedGrid(g: ConvGeometry): PaddedGrid {
  const hp = g.outHeight + g.filterHeight - 1, wp = g.outWidth + g.filterWidth - 1;
  const rows = (g.batchSize * hp - (g.filterHeight - 1)) * wp - (g.filterWidth - 1);
  return { hp, wp, rows };
}

/** x [N,H,W,C] into the zero-padded grid [N,hp,wp,C] (rows/cols beyond the input stay zero). */
function padInto(x: Float32Array, g: ConvGeometry, grid: PaddedGrid, xp: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C } = g;
  const top = g.padInfo.top, left = g.padInfo.left;
  xp.fill(0);
  for (let b = 0; b < g.batchSize; b++) {
    for (let iy = 0; iy < H; iy++) {
      const py = iy + top;
      if (py < 0 || py >= grid.hp) continue;
      const x0 = Math.max(0, -left), x1 = Math.min(W, grid.wp - left);
      if (x1 <= x0) continue;
      const s = ((b * H + iy) * W + x0) * C, d = ((b * grid.hp + py) * grid.wp + x0 + left) * C;
      xp.set(x.subarray(s, s + (x1 - x0) * C), d);
    }
  }
}

export function shiftedForward(blas: Blas, x: Float32Array, w: Float32Array, g: ConvGeometry, y: Float32Array): void {
  const grid = paddedGrid(g);
  const C = g.inChannels, O = g.outChannels, KH = g.filterHeight, KW = g.filterWidth;
  const xp = buffer("xp", g.batchSize * grid.hp * grid.wp * C);
  padInto(x, g, grid, xp);
  const full = buffer("full", grid.rows * O);
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      const t = ky * KW + kx, off = (ky * grid.wp + kx) * C;
      blas.sgemm(false, false, grid.rows, O, C, 1, xp.subarray(off, off + grid.rows * C), w.subarray(t * C * O, (t + 1) * C * O), t === 0 ? 0 : 1, full);
    }
  }
  // crop: output (b, oy, ox) is padded-grid row (b*hp + oy)*wp + ox
  const rowLen = g.outWidth * O;
  for (let b = 0; b < g.batchSize; b++) {
    for (let oy = 0; oy < g.outHeight; oy++) {
      const s = ((b * grid.hp + oy) * grid.wp) * O;
      y.set(full.subarray(s, s + rowLen), ((b * g.outHeight + oy) * g.outWidth) * O);
    }
  }
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

/** y [N,Ho,Wo,O] = conv(x [N,H,W,I], w [kh,kw,I,O]), written into `y` (every element). */
export function conv2dForward(blas: Blas, x: Float32Array, w: Float32Array, g: ConvGeometry, y: Float32Array): void {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  if (isPointwise(g)) {
    blas.sgemm(false, false, P, O, K, 1, x, w, 0, y);
    return;
  }
  if (isUnitStride(g)) {
    shiftedForward(blas, x, w, g, y);
    return;
  }
  im2colForward(blas, x, w, g, y);
}

export function im2colForward(blas: Blas, x: Float32Array, w: Float32Array, g: ConvGeometry, y: Float32Array): void {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const cols = scratchOf(rows * K);
    im2col(x, g, r0, rows, cols);
    blas.sgemm(false, false, rows, O, K, 1, cols, w, 0, y.subarray(r0 * O, (r0 + rows) * O));
  }
}

/**
 * For stride 1 and dilation 1 the input gradient is itself a convolution: dy convolved with the
 * filter rotated 180 degrees and its channel axes swapped, padded by (k - 1 - pad). That runs
 * through im2col (block copies) instead of col2im (a scalar scatter-add), ~2x faster.
 */
function isUnitStride(g: ConvGeometry): boolean {
  return g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
}

/** w [kh,kw,I,O] -> w' [kh,kw,O,I] with w'[ky,kx,o,i] = w[kh-1-ky, kw-1-kx, i, o]. */
export function rotateFilter(w: Float32Array, kh: number, kw: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const src = ((kh - 1 - ky) * kw + (kw - 1 - kx)) * ci * co, dst = (ky * kw + kx) * co * ci;
      for (let i = 0; i < ci; i++) {
        const s = src + i * co;
        for (let o = 0; o < co; o++) out[dst + o * ci + i] = w[s + o];
      }
    }
  }
  return out;
}

/** dx [N,H,W,I] from dy [N,Ho,Wo,O] and w [kh,kw,I,O], written into `dx` (every element). */
export function conv2dBackpropInput(blas: Blas, dy: Float32Array, w: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  if (isPointwise(g)) {
    blas.sgemm(false, true, P, K, O, 1, dy, w, 0, dx);
    return;
  }
  if (isUnitStride(g)) {
    const transposed: ConvGeometry = {
      ...g,
      inHeight: g.outHeight, inWidth: g.outWidth, inChannels: O,
      outHeight: g.inHeight, outWidth: g.inWidth, outChannels: g.inChannels,
      padInfo: { top: g.filterHeight - 1 - g.padInfo.top, left: g.filterWidth - 1 - g.padInfo.left },
    };
    conv2dForward(blas, dy, rotateFilter(w, g.filterHeight, g.filterWidth, g.inChannels, O), transposed, dx);
    return;
  }
  dx.fill(0);
  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const dcols = scratchOf(rows * K);
    blas.sgemm(false, true, rows, K, O, 1, dy.subarray(r0 * O, (r0 + rows) * O), w, 0, dcols);
    col2imAdd(dcols, g, r0, rows, dx);
  }
}

/** dW [kh,kw,I,O] from x [N,H,W,I] and dy [N,Ho,Wo,O], written into `dw` (every element). */
export function conv2dBackpropFilter(blas: Blas, x: Float32Array, dy: Float32Array, g: ConvGeometry, dw: Float32Array): void {
  const P = g.batchSize * g.outHeight * g.outWidth, O = g.outChannels;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  if (isPointwise(g)) {
    blas.sgemm(true, false, K, O, P, 1, x, dy, 0, dw);
    return;
  }

  const step = chunkRows(g);
  for (let r0 = 0; r0 < P; r0 += step) {
    const rows = Math.min(step, P - r0);
    const cols = scratchOf(rows * K);
    im2col(x, g, r0, rows, cols);
    blas.sgemm(true, false, K, O, rows, 1, cols, dy.subarray(r0 * O, (r0 + rows) * O), r0 === 0 ? 0 : 1, dw);
  }
}
