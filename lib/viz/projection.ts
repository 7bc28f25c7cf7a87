/**
 * Seeded random orthographic projections of feature vectors to 2-D (AST paper, Fig. 5 right):
 * one dims x 2 matrix with orthonormal columns, applied to teacher and student outputs alike, so
 * distances in the plot are true distances shrunk by the projection, never stretched.
 */
import { deriveSeed, mulberry32 } from "../util/random.ts";

/** Standard normal samples from mulberry32 via Box-Muller (both values of each pair are used). */
export function seededGaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u1 = 1 - uniform(); // (0, 1]: log stays finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

/** Row-major dims x 2 matrix: Gram-Schmidt of two Gaussian columns (a uniformly random 2-plane). */
export function randomOrthoProjection(dims: number, seed: number): Float64Array {
  if (!(Number.isInteger(dims) && dims >= 2)) throw new Error(`projection needs dims >= 2, got ${dims}`);
  const gaussian = seededGaussian(deriveSeed(seed, "projection"));
  const a = Float64Array.from({ length: dims }, gaussian);
  const b = Float64Array.from({ length: dims }, gaussian);
  const dot = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const normalise = (u: Float64Array) => {
    const norm = Math.sqrt(dot(u, u));
    for (let i = 0; i < dims; i++) u[i] /= norm;
  };
  normalise(a);
  const ab = dot(a, b);
  for (let i = 0; i < dims; i++) b[i] -= ab * a[i];
  normalise(b);
  const m = new Float64Array(dims * 2);
  for (let i = 0; i < dims; i++) {
    m[2 * i] = a[i];
    m[2 * i + 1] = b[i];
  }
  return m;
}

/** Project rows `indices` of an n x dims row-major array: returns [x0, y0, x1, y1, ...]. */
export function projectRows(data: Float32Array, dims: number, matrix: Float64Array, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length * 2);
  for (let k = 0; k < indices.length; k++) {
    const row = indices[k] * dims;
    let x = 0, y = 0;
    for (let d = 0; d < dims; d++) {
      const v = data[row + d];
      x += v * matrix[2 * d];
      y += v * matrix[2 * d + 1];
    }
    out[2 * k] = x;
    out[2 * k + 1] = y;
  }
  return out;
}

/** `count` distinct items of `pool`, chosen by a partial Fisher-Yates shuffle. */
function sampleFrom(pool: number[], count: number, rng: () => number): number[] {
  const a = pool.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, count);
}

/**
 * Up to maxPoints of 0..n-1, deterministic per seed, ascending. With labels, normal and anomalous
 * rows share the budget equally (a class short of its half leaves the rest to the other), since
 * anomalous pixels are a few percent and a proportional sample would show almost none.
 */
export function balancedSubsample(n: number, maxPoints: number, seed: number, labels?: Uint8Array): Int32Array {
  if (labels && labels.length !== n) throw new Error(`labels has ${labels.length} entries, expected ${n}`);
  if (n <= maxPoints) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = mulberry32(deriveSeed(seed, "subsample"));
  let chosen: number[];
  if (!labels) {
    chosen = sampleFrom(Array.from({ length: n }, (_, i) => i), maxPoints, rng);
  } else {
    const normal: number[] = [], anomalous: number[] = [];
    for (let i = 0; i < n; i++) (labels[i] ? anomalous : normal).push(i);
    const anomalousTake = Math.min(anomalous.length, Math.max(Math.floor(maxPoints / 2), maxPoints - normal.length));
    const normalTake = Math.min(normal.length, maxPoints - anomalousTake);
    chosen = [...sampleFrom(normal, normalTake, rng), ...sampleFrom(anomalous, anomalousTake, rng)];
  }
  return Int32Array.from(chosen).sort();
}
