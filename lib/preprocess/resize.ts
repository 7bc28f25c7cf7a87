/**
 * Resampling and thresholding of single-channel float maps (row-major): torch's bilinear
 * (`F.interpolate(..., align_corners=False)`, no antialias: depth, masks) and an exact area
 * (box) resize (antialiased when shrinking: the raw-patch and MobileNetV2 inputs).
 */

/** Box-filter resize of one channel (exact area coverage; plain bilinear-like when enlarging). */
export function areaResize(src: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  const rows = axisWeights(h, outH), cols = axisWeights(w, outW);
  // float32 intermediate, float64 products and sums: the same arithmetic in the same order as
  // the tuple-list version this replaced (flat arrays only make it ~10x faster)
  const tmp = new Float32Array(outH * w);
  for (let o = 0; o < outH; o++) {
    const row = o * w;
    for (let t = rows.start[o]; t < rows.start[o + 1]; t++) {
      const from = rows.index[t] * w, wt = rows.weight[t];
      for (let x = 0; x < w; x++) tmp[row + x] += wt * src[from + x];
    }
  }
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const row = y * w;
    for (let o = 0; o < outW; o++) {
      let s = 0;
      for (let t = cols.start[o]; t < cols.start[o + 1]; t++) s += cols.weight[t] * tmp[row + cols.index[t]];
      out[y * outW + o] = s;
    }
  }
  return out;
}

/** The taps of each output index: input indices and normalised weights, output o's at start[o] .. start[o + 1]. */
interface AxisTaps {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** For each output index, the input indices and normalised weights of its footprint. */
function axisWeights(n: number, out: number): AxisTaps {
  const scale = n / out;
  const start = new Int32Array(out + 1), index: number[] = [], weight: number[] = [];
  for (let o = 0; o < out; o++) {
    start[o] = index.length;
    if (scale <= 1) {
      // enlarging: linear interpolation with half-pixel centres
      const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), n - 1);
      const i0 = Math.floor(s), i1 = Math.min(i0 + 1, n - 1), t = s - i0;
      if (i0 === i1) index.push(i0), weight.push(1);
      else index.push(i0, i1), weight.push(1 - t, t);
      continue;
    }
    const a = o * scale, b = (o + 1) * scale;
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const cover = Math.min(b, i + 1) - Math.max(a, i);
      if (cover > 0) index.push(i), weight.push(cover / scale);
    }
  }
  start[out] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** Source taps of a 1-D bilinear resize with torch's align_corners=False convention. */
function bilinearTaps(inLen: number, outLen: number) {
  const lo = new Int32Array(outLen), hi = new Int32Array(outLen), frac = new Float32Array(outLen);
  const scale = inLen / outLen;
  for (let d = 0; d < outLen; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0); // torch clamps negative source indices to 0
    const i0 = Math.min(Math.floor(src), inLen - 1);
    lo[d] = i0;
    hi[d] = Math.min(i0 + 1, inLen - 1);
    frac[d] = src - i0;
  }
  return { lo, hi, frac };
}

/**
 * Bilinear resize of one channel, like torch `F.interpolate(mode="bilinear",
 * align_corners=False)` (no antialias) and tf `resizeBilinear(halfPixelCenters=true)`.
 */
export function resizeBilinear(
  src: Float32Array,
  h: number,
  w: number,
  outH: number,
  outW: number = outH,
): Float32Array {
  const ty = bilinearTaps(h, outH), tx = bilinearTaps(w, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r0 = ty.lo[y] * w, r1 = ty.hi[y] * w, fy = ty.frac[y];
    for (let x = 0; x < outW; x++) {
      const c0 = tx.lo[x], c1 = tx.hi[x], fx = tx.frac[x];
      const top = src[r0 + c0] * (1 - fx) + src[r0 + c1] * fx;
      const bottom = src[r1 + c0] * (1 - fx) + src[r1 + c1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** 1 where value > threshold, else 0 (step 4 binarises the resized mask with threshold 0). */
export function binarize(values: Float32Array, threshold = 0): Float32Array {
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k] > threshold ? 1 : 0;
  return out;
}

